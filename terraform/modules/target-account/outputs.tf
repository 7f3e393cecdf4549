output "role_arn" {
  description = "The collector role of this account."
  value       = aws_iam_role.collector.arn
}
