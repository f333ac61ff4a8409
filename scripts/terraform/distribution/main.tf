# One distribution of the continuous-deployment trio in ../main.tf: the
# primary and the staging differ only in the inputs below.

terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}

variable "staging" {
  type = bool
}

variable "comment" {
  type = string
}

variable "origin_path" {
  description = "The site's version under the bucket, for example /1.0.0"
  type        = string
}

variable "site" {
  description = "What the primary and the staging share: the bucket, its origin access control and the managed policies"
  type = object({
    bucket_domain              = string
    origin_access_control_id   = string
    cache_policy_id            = string
    origin_request_policy_id   = string
    response_headers_policy_id = string
  })
}

variable "continuous_deployment_policy_id" {
  description = "The policy a primary is attached to; null for none (and for a staging)"
  type        = string
  default     = null
}

resource "aws_cloudfront_distribution" "this" {
  staging                         = var.staging
  enabled                         = true
  comment                         = var.comment
  default_root_object             = "index.html"
  http_version                    = "http2"
  continuous_deployment_policy_id = var.continuous_deployment_policy_id

  origin {
    origin_id                = "site"
    domain_name              = var.site.bucket_domain
    origin_path              = var.origin_path
    origin_access_control_id = var.site.origin_access_control_id
  }

  default_cache_behavior {
    target_origin_id           = "site"
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    cache_policy_id            = var.site.cache_policy_id
    origin_request_policy_id   = var.site.origin_request_policy_id
    response_headers_policy_id = var.site.response_headers_policy_id
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

output "id" {
  value = aws_cloudfront_distribution.this.id
}

output "domain_name" {
  value = aws_cloudfront_distribution.this.domain_name
}
