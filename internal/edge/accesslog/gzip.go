package accesslog

import (
	"bufio"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
)

// gzEncoder compresses a file's lines: klauspost/compress's gzip (a
// drop-in for compress/gzip, already in the module through fasthttp, and
// several times faster at its fastest level), through a buffer of
// fileBuffer before the file.
type gzEncoder struct {
	bw *bufio.Writer
	gz *gzip.Writer
}

func newGzEncoder(w io.Writer) (*gzEncoder, error) {
	bw := bufio.NewWriterSize(w, fileBuffer)
	gz, err := gzip.NewWriterLevel(bw, gzip.BestSpeed)
	if err != nil {
		return nil, fmt.Errorf("access log gzip: %w", err)
	}
	return &gzEncoder{bw: bw, gz: gz}, nil
}

// write compresses p.
func (e *gzEncoder) write(p []byte) error {
	_, err := e.gz.Write(p)
	return err
}

// close ends the gzip stream and writes what is buffered.
func (e *gzEncoder) close() error {
	if err := e.gz.Close(); err != nil {
		return err
	}
	return e.bw.Flush()
}
