package cloudfront

import (
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"time"
)

// Namespace is the XML namespace of every CloudFront 2020-05-31 document.
const Namespace = "http://cloudfront.amazonaws.com/doc/2020-05-31/"

// TimeLayout is how CloudFront writes timestamps: ISO-8601 UTC with milliseconds.
const TimeLayout = "2006-01-02T15:04:05.000Z"

// Time is a timestamp that marshals the way CloudFront writes it.
type Time struct{ time.Time }

// NewTime wraps t (truncated to milliseconds, in UTC).
func NewTime(t time.Time) *Time { return &Time{t.UTC().Truncate(time.Millisecond)} }

// MarshalText implements encoding.TextMarshaler.
func (t Time) MarshalText() ([]byte, error) {
	return []byte(t.UTC().Format(TimeLayout)), nil
}

// UnmarshalText accepts RFC 3339 with or without fractional seconds.
func (t *Time) UnmarshalText(b []byte) error {
	v, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return fmt.Errorf("timestamp %q: %w", b, err)
	}
	t.Time = v.UTC()
	return nil
}

// Blob is binary data, base64 in XML as botocore writes it.
type Blob []byte

// MarshalText implements encoding.TextMarshaler.
func (b Blob) MarshalText() ([]byte, error) {
	return []byte(base64.StdEncoding.EncodeToString(b)), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (b *Blob) UnmarshalText(text []byte) error {
	v, err := base64.StdEncoding.DecodeString(string(text))
	if err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	*b = v
	return nil
}

// RawXML is an element the model does not describe, kept verbatim.
type RawXML struct {
	XMLName xml.Name
	Attr    []xml.Attr `xml:",any,attr"`
	Inner   string     `xml:",innerxml"`
}

// ModelError is an error shape of the model.
type ModelError struct {
	Status  int
	Message string
}

// String, Bool, Int32, Int64 and Float64 return pointers to their argument,
// for building shapes in code.
func String(s string) *string    { return &s }
func Bool(b bool) *bool          { return &b }
func Int32(i int32) *int32       { return &i }
func Int64(i int64) *int64       { return &i }
func Float64(f float64) *float64 { return &f }

// Str, IsTrue and I32 read optional members, treating nil as the zero value.
func Str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
func IsTrue(b *bool) bool { return b != nil && *b }
func I32(i *int32) int32 {
	if i == nil {
		return 0
	}
	return *i
}
func F64(f *float64) float64 {
	if f == nil {
		return 0
	}
	return *f
}
