# A continuous-deployment trio managed by the hashicorp/aws provider against
# a local `stagefront serve`: an origin access control, a staging
# distribution, a continuous-deployment policy and an enabled primary that
# uses managed policies looked up by data source. scripts/terraform-conformance.sh
# drives it through three stages (see var.stage).

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0, < 6.0"
    }
  }
}

variable "endpoint" {
  description = "URL of the stagefront API, for example http://127.0.0.1:8443"
  type        = string
}

variable "stage" {
  description = "create: policy by header, not attached; attach: attached to the primary; weight: SingleWeight 0.15 with stickiness"
  type        = string
  default     = "create"
  validation {
    condition     = contains(["create", "attach", "weight"], var.stage)
    error_message = "stage is one of create, attach, weight."
  }
}

provider "aws" {
  region                      = "us-east-1"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  endpoints {
    cloudfront = var.endpoint
  }
}

data "aws_cloudfront_cache_policy" "optimized" {
  name = "Managed-CachingOptimized"
}

data "aws_cloudfront_origin_request_policy" "cors_s3" {
  name = "Managed-CORS-S3Origin"
}

data "aws_cloudfront_response_headers_policy" "security" {
  name = "Managed-SecurityHeadersPolicy"
}

resource "aws_cloudfront_origin_access_control" "site" {
  name                              = "stagefront-tf-site"
  description                       = "Terraform conformance"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

locals {
  bucket_domain = "stagefront-tf-site.s3.us-east-1.amazonaws.com"
  # What the primary and the staging share (./distribution holds the rest).
  site = {
    bucket_domain              = local.bucket_domain
    origin_access_control_id   = aws_cloudfront_origin_access_control.site.id
    cache_policy_id            = data.aws_cloudfront_cache_policy.optimized.id
    origin_request_policy_id   = data.aws_cloudfront_origin_request_policy.cors_s3.id
    response_headers_policy_id = data.aws_cloudfront_response_headers_policy.security.id
  }
}

module "staging" {
  source      = "./distribution"
  staging     = true
  comment     = "staging"
  origin_path = "/2.0.0"
  site        = local.site
}

resource "aws_cloudfront_continuous_deployment_policy" "cd" {
  enabled = true

  staging_distribution_dns_names {
    items    = [module.staging.domain_name]
    quantity = 1
  }

  traffic_config {
    type = var.stage == "weight" ? "SingleWeight" : "SingleHeader"

    dynamic "single_header_config" {
      for_each = var.stage == "weight" ? [] : [1]
      content {
        header = "aws-cf-cd-stage"
        value  = "blue"
      }
    }

    dynamic "single_weight_config" {
      for_each = var.stage == "weight" ? [1] : []
      content {
        weight = "0.15"
        session_stickiness_config {
          idle_ttl    = 300
          maximum_ttl = 600
        }
      }
    }
  }
}

module "primary" {
  source                          = "./distribution"
  staging                         = false
  comment                         = "primary"
  origin_path                     = "/1.0.0"
  continuous_deployment_policy_id = var.stage == "create" ? null : aws_cloudfront_continuous_deployment_policy.cd.id
  site                            = local.site
}

output "primary_id" {
  value = module.primary.id
}

output "staging_id" {
  value = module.staging.id
}

output "policy_id" {
  value = aws_cloudfront_continuous_deployment_policy.cd.id
}
