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
}

resource "aws_cloudfront_distribution" "staging" {
  staging             = true
  enabled             = true
  comment             = "staging"
  default_root_object = "index.html"
  http_version        = "http2"

  origin {
    origin_id                = "site"
    domain_name              = local.bucket_domain
    origin_path              = "/2.0.0"
    origin_access_control_id = aws_cloudfront_origin_access_control.site.id
  }

  default_cache_behavior {
    target_origin_id           = "site"
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    cache_policy_id            = data.aws_cloudfront_cache_policy.optimized.id
    origin_request_policy_id   = data.aws_cloudfront_origin_request_policy.cors_s3.id
    response_headers_policy_id = data.aws_cloudfront_response_headers_policy.security.id
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    cloudfront_default_certificate = true
  }
}

resource "aws_cloudfront_continuous_deployment_policy" "cd" {
  enabled = true

  staging_distribution_dns_names {
    items    = [aws_cloudfront_distribution.staging.domain_name]
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

resource "aws_cloudfront_distribution" "primary" {
  enabled                         = true
  comment                         = "primary"
  default_root_object             = "index.html"
  http_version                    = "http2"
  continuous_deployment_policy_id = var.stage == "create" ? null : aws_cloudfront_continuous_deployment_policy.cd.id

  origin {
    origin_id                = "site"
    domain_name              = local.bucket_domain
    origin_path              = "/1.0.0"
    origin_access_control_id = aws_cloudfront_origin_access_control.site.id
  }

  default_cache_behavior {
    target_origin_id           = "site"
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    cache_policy_id            = data.aws_cloudfront_cache_policy.optimized.id
    origin_request_policy_id   = data.aws_cloudfront_origin_request_policy.cors_s3.id
    response_headers_policy_id = data.aws_cloudfront_response_headers_policy.security.id
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    cloudfront_default_certificate = true
  }
}

output "primary_id" {
  value = aws_cloudfront_distribution.primary.id
}

output "staging_id" {
  value = aws_cloudfront_distribution.staging.id
}

output "policy_id" {
  value = aws_cloudfront_continuous_deployment_policy.cd.id
}
