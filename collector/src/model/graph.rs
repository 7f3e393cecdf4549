//! Role graphs: who can reach which role, and by which shortest chain.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Every node reachable from `start` over `edges` (grantee → granted roles), each with the
/// shortest chain of roles leading to it (the node itself last, `start` excluded).
/// Cycles are harmless: a node is visited once. Results are ordered by depth, then name.
pub fn reachable<K: Ord + Clone>(start: &K, edges: &BTreeMap<K, BTreeSet<K>>) -> Vec<(K, Vec<K>)> {
    let mut seen = BTreeSet::from([start.clone()]);
    let mut out = Vec::new();
    let mut queue = VecDeque::from([(start.clone(), Vec::new())]);
    while let Some((node, path)) = queue.pop_front() {
        for next in edges.get(&node).into_iter().flatten() {
            if seen.insert(next.clone()) {
                let mut p: Vec<K> = path.clone();
                p.push(next.clone());
                out.push((next.clone(), p.clone()));
                queue.push_back((next.clone(), p));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_any_depth_shortest_first_and_survives_cycles() {
        let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        edges.entry("alice").or_default().insert("a");
        edges.entry("a").or_default().insert("b");
        edges.entry("b").or_default().insert("c");
        edges.entry("c").or_default().insert("a");
        edges.entry("alice").or_default().insert("c");
        let r = reachable(&"alice", &edges);
        let c = r.iter().find(|(n, _)| *n == "c").unwrap();
        assert_eq!(c.1, vec!["c"], "the direct edge is shortest");
        let b = r.iter().find(|(n, _)| *n == "b").unwrap();
        assert_eq!(b.1, vec!["a", "b"]);
        assert_eq!(r.len(), 3);
    }
}
