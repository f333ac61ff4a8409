// Package delivery uploads finished access log files to the bucket of
// their distribution's Logging config, through an S3-compatible endpoint,
// as CloudFront delivers standard logs: the object key is the file's name,
// <prefix><distribution-id>.YYYY-MM-DD-HH.<unique>.gz
// (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logging-legacy-s3.html).
//
// # What it owns
//
// The upload queue of one access log directory. The access log writer
// (package accesslog) tells the Uploader of each file it finishes; the
// Uploader also rescans the directory, so files left by an earlier process
// or by a failed upload are found again. A file is removed only after the
// bucket acknowledged it; a failed upload keeps the file and is retried
// with exponential backoff, so no file is lost to an unreachable endpoint.
// A file whose distribution no longer logs, or whose bucket is unknown,
// stays in the directory.
//
// # Lifecycle
//
// main creates one Uploader per edge process with New when
// --access-log-s3-endpoint is set, hands Notify to the writer, and runs
// Run under its errgroup until shutdown. Uploads use the standard AWS
// credential chain (environment, shared files, instance roles), through
// aws-sdk-go-v2's S3 client.
package delivery
