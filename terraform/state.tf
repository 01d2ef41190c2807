# The state bucket: poll-feed's checkpoint (the id of the last event handed to the queue) and the
# agreement index under index/agreements/ (which roles hold each agreement's statements; a cache
# the hourly reconcile rebuilds). Private, encrypted, versioned (an earlier checkpoint can be
# restored to replay the feed).

resource "aws_s3_bucket" "state" {
  bucket        = local.state_bucket_name
  force_destroy = var.state_bucket_force_destroy
  tags          = local.tags
}

resource "aws_s3_bucket_ownership_controls" "state" {
  bucket = aws_s3_bucket.state.id

  # ACLs disabled: the bucket owner owns every object and only policies grant access.
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "state" {
  bucket = aws_s3_bucket.state.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  # SSE-S3: encrypted at rest without KMS permissions for poll-feed or a key to manage.
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  # Every checkpoint or index write leaves a noncurrent version; a month of them is plenty for a
  # rewind. A deleted index entry leaves a delete marker, removed once nothing is left behind it.
  rule {
    id     = "expire-old-checkpoints"
    status = "Enabled"

    filter {}

    expiration {
      expired_object_delete_marker = true
    }

    noncurrent_version_expiration {
      noncurrent_days = 30
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.state]
}

# Refuse every request that does not use TLS. The Deny names all S3 actions on purpose: it grants
# nothing, and a TLS rule that listed actions would miss the ones not listed.
data "aws_iam_policy_document" "state_bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.state.arn, "${aws_s3_bucket.state.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "state" {
  bucket = aws_s3_bucket.state.id
  policy = data.aws_iam_policy_document.state_bucket.json

  # S3 rejects concurrent configuration changes of one bucket ("OperationAborted").
  depends_on = [aws_s3_bucket_public_access_block.state]
}
