variable "name_prefix" {
  description = "Prefix of every resource name. The functions and the CLI read the resulting names from the outputs."
  type        = string
  default     = "db-admin-report"
}

variable "target_account_ids" {
  description = "AWS account ids the collector may assume its role in."
  type        = list(string)
}

variable "target_role_name" {
  description = "Name of the collector role in each target account (created by the target-account module)."
  type        = string
  default     = "db-admin-report-collector"
}

variable "discovery_role_name" {
  description = "Name of the read-only discovery role in each target account (created by the target-account module): the publisher lists RDS through it and can read no secret."
  type        = string
  default     = "db-admin-report-discovery"
}

variable "external_id" {
  description = "ExternalId the target roles require."
  type        = string
  sensitive   = true
}

variable "lambda_zip_dir" {
  description = "Folder holding publisher.zip, collector.zip and reporter.zip (built by terraform/build-lambdas.sh)."
  type        = string
}

variable "function_timeout_seconds" {
  description = "Time-out of every function; queue visibility time-outs are six times this, finalize claims hold twice this."
  type        = number
  default     = 120
  validation {
    # Six times it must stay within SQS's 12-hour visibility limit; jobs need time to connect and read.
    condition     = var.function_timeout_seconds >= 30 && var.function_timeout_seconds <= 900
    error_message = "function_timeout_seconds must be between 30 and 900 (Lambda's maximum)."
  }
}

variable "collector_max_concurrency" {
  description = "Most collector invocations at once (protects the databases and the account's concurrency)."
  type        = number
  default     = 20
}

variable "alarm_emails" {
  description = "E-mail addresses subscribed to the alarm topic (each confirms by e-mail)."
  type        = list(string)
  default     = []
}

variable "max_receive_count" {
  description = "Deliveries of a message before it rests in its dead-letter queue."
  type        = number
  default     = 5
}

variable "report_retention_days" {
  description = "Object Lock (COMPLIANCE) retention of every report version, in days."
  type        = number
  default     = 400
}

variable "transient_retention_days" {
  description = "Days before runs/ data (requests, populations, per-database results) expires."
  type        = number
  default     = 90
}

variable "log_retention_days" {
  description = "CloudWatch Logs retention of the functions' logs: at least the 90 days security logs are kept; 365 or more to cover a whole SOC 2 Type II period."
  type        = number
  default     = 90
  validation {
    condition     = var.log_retention_days >= 90
    error_message = "Security logs are kept at least 90 days."
  }
}

variable "stuck_report_minutes" {
  description = "A collect or finalize message older than this raises the report-stuck alarm."
  type        = number
  default     = 60
}

variable "schedule" {
  description = "Optional recurring report: an EventBridge Scheduler expression (cron(...) or rate(...)), its time zone, the inventory (s3:// URI), an optional approved-admin baseline (s3:// URI next to the inventory) and filters. Null (the default) schedules nothing."
  type = object({
    expression = string
    timezone   = optional(string, "UTC")
    inventory  = string
    baseline   = optional(string)
    accounts   = optional(list(string), [])
    regions    = optional(list(string), [])
    engines    = optional(list(string), [])
  })
  default = null
}

variable "vpc_subnet_ids" {
  description = "Subnets for the collector when databases are private; empty runs it outside a VPC."
  type        = list(string)
  default     = []
}

variable "vpc_security_group_ids" {
  description = "Security groups for the collector in a VPC."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

variable "inventory_parameter_path" {
  description = "Parameter Store path the publisher may read inventories from (ssm:/path/… or ssm:/path/name); SecureStrings must use a key the publisher may decrypt with (inventory_parameter_kms_key_arns)."
  type        = string
  default     = "/db-admin-report/inventory"
  validation {
    condition     = startswith(var.inventory_parameter_path, "/") && !endswith(var.inventory_parameter_path, "/")
    error_message = "A path such as /db-admin-report/inventory (leading slash, no trailing one)."
  }
}

variable "inventory_parameter_kms_key_arns" {
  description = "Keys of SecureString inventory parameters the publisher may decrypt (through SSM only)."
  type        = list(string)
  default     = []
}

variable "discover_organization" {
  description = "Let the publisher list the AWS Organization's accounts (organizations:ListAccounts) for generate --discover --organization; the central account must be the management or a delegated administrator account."
  type        = bool
  default     = false
}

variable "min_tls_mode" {
  description = "The weakest TLS mode the collector connects with: an inventory row asking for less (its writer's choice) becomes an error row and no connection is opened. verify-full checks the certificate and the host name; verify-ca any RDS database's certificate would pass."
  type        = string
  default     = "verify-full"
  validation {
    condition     = contains(["verify-full", "verify-ca", "require", "disable"], var.min_tls_mode)
    error_message = "One of verify-full, verify-ca, require, disable."
  }
}

variable "require_bound_secrets" {
  description = "Send a database password only where its secret says (RDS fields host/dbInstanceIdentifier, or a db-admin-report:hosts list in the secret): a secret naming no database becomes an error row. Off by default so existing plain {username, password} secrets keep working; the manifest lists them under unbound_secrets either way."
  type        = bool
  default     = false
}

variable "login_window_days" {
  description = "Days of login evidence the collector reads (ending at collection) for the Last Login Date, from the log groups RDS exports to CloudWatch Logs (inventory column login_log). An admin with no login in a log that covers all of it is DORMANT_ADMIN."
  type        = number
  default     = 90
  validation {
    condition     = var.login_window_days >= 1 && var.login_window_days <= 3650
    error_message = "Between 1 and 3650 days."
  }
}

variable "inventory_writer_arns" {
  description = "The IAM principals (users or roles) that may write inventories and baselines: s3://BUCKET/inventory/* (the bucket policy denies every other principal, administrators included) and, through the SCP in output inventory_parameter_scp_json, the Parameter Store path. Inventories and baselines are roots of trust: keep this to the one pipeline that publishes the reviewed files."
  type        = list(string)
  validation {
    condition     = length(var.inventory_writer_arns) > 0 && alltrue([for a in var.inventory_writer_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(user|role)/.+", a))])
    error_message = "At least one IAM user or role ARN (arn:aws:iam::123456789012:role/name)."
  }
}
