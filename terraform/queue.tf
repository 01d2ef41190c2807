# The FIFO event queue between poll-feed and process-events, and its dead-letter queue.
# Both use SSE-SQS (SQS-managed keys), which needs no KMS permissions on either side.

resource "aws_sqs_queue" "dead_letter" {
  name                        = "${var.name_prefix}-events-dlq.fifo"
  fifo_queue                  = true
  content_based_deduplication = false
  # The maximum, 14 days: time to notice the alarm, fix the cause and replay the events.
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
  tags                      = local.tags
}

resource "aws_sqs_queue" "events" {
  name       = "${var.name_prefix}-events.fifo"
  fifo_queue = true
  # poll-feed sets MessageDeduplicationId to the feed event's id: a re-read event is dropped,
  # while two different events with the same body are both delivered.
  content_based_deduplication = false

  # AWS's guidance for Lambda event sources: at least six times the function's timeout, so that a
  # batch the event source retries because the (single-concurrency) function was throttled is
  # not handed out a second time while it is still being worked on.
  visibility_timeout_seconds = 6 * var.process_events_timeout_seconds

  # 4 days. An event that outlives this is lost from the queue, but not from IAM: the hourly full
  # reconcile converges its agreement regardless.
  message_retention_seconds = 345600
  sqs_managed_sse_enabled   = true

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letter.arn
    maxReceiveCount     = var.max_receive_count
  })

  tags = local.tags
}

# Only the event queue may use the dead-letter queue, and start-message-move-task moves its
# messages back to that source queue (docs/operations.md).
resource "aws_sqs_queue_redrive_allow_policy" "dead_letter" {
  queue_url = aws_sqs_queue.dead_letter.id

  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.events.arn]
  })
}

resource "aws_lambda_event_source_mapping" "process_events" {
  event_source_arn = aws_sqs_queue.events.arn
  function_name    = aws_lambda_function.this["process_events"].arn
  batch_size       = var.batch_size
  enabled          = true

  # The handler reports failed records (and the later records of their message group) so that
  # only those are retried; without this a single failure would re-run the whole batch.
  function_response_types = ["ReportBatchItemFailures"]

  # Lambda checks at creation that the function's role may receive from the queue.
  depends_on = [aws_iam_role_policy.process_events_queue]
}
