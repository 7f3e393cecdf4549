output "role_arn" {
  description = "The collector role of this account."
  value       = aws_iam_role.collector.arn
}

output "discovery_role_arn" {
  description = "The discovery role of this account (null when nobody is trusted to discover)."
  value       = one(aws_iam_role.discovery[*].arn)
}
