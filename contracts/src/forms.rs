//! One table for an enum's string forms.

/// Defines an enum's string forms from one table: `ALL`, `as_str`, `Display` and `FromStr`
/// (whose error lists the accepted forms), so the forms cannot drift apart. Serde's names are
/// declared on the enum; a test holds each equal to `as_str`.
macro_rules! string_forms {
    ($ty:ident, $what:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $text),+
                }
            }
        }

        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| {
                    let forms: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                    format!("unknown {} '{s}' (expected one of: {})", $what, forms.join(", "))
                })
            }
        }
    };
}
