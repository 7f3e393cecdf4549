variable "central_collector_role_arn" {
  description = "ARN of the central account's collector role (output collector_role_arn of the central module)."
  type        = string
}

variable "external_id" {
  description = "ExternalId the central collector must present."
  type        = string
  sensitive   = true
}

variable "role_name" {
  description = "Name of the collector role here; the central module's target_role_name must match."
  type        = string
  default     = "db-admin-report-collector"
}

variable "secret_arns" {
  description = "Secrets holding the collector's database logins, by ARN. Use this or secret_tag."
  type        = list(string)
  default     = []
}

variable "secret_tag" {
  description = "Alternatively, a tag key/value every readable secret carries, e.g. { key = \"db-admin-report\", value = \"collector\" }."
  type = object({
    key   = string
    value = string
  })
  default = null
}

variable "secrets_kms_key_arns" {
  description = "Customer-managed KMS keys encrypting those secrets (empty when they use the AWS-managed key)."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

variable "central_publisher_role_arn" {
  description = "The central publisher's role (output publisher_role_arn): it assumes the discovery role to list the account's RDS databases for reconciliation. Null (and no discovery_principal_arns): no discovery role in this account."
  type        = string
  default     = null
}

variable "discovery_role_name" {
  description = "Name of the read-only discovery role here; the central module's discovery_role_name must match."
  type        = string
  default     = "db-admin-report-discovery"
}

variable "discovery_principal_arns" {
  description = "Other principals that may list this account's databases through the discovery role, e.g. the role of a bastion running generate --local --discover or inventory discover."
  type        = list(string)
  default     = []
}
