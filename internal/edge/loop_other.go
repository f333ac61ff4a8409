//go:build !linux

package edge

import (
	"context"
	"errors"
	"net"
)

// LoopServer is the event-loop engine, which needs Linux (epoll).
type LoopServer struct{}

// LoopServer returns the event-loop engine, which on this system fails to serve.
func (s *Server) LoopServer(loops int) *LoopServer { return &LoopServer{} }

// Serve fails: the event-loop engine needs Linux.
func (ls *LoopServer) Serve(ln net.Listener) error {
	_ = ln.Close()
	return errors.New("the loop edge engine needs Linux (epoll); use fasthttp")
}

// Shutdown does nothing.
func (ls *LoopServer) Shutdown(context.Context) error { return nil }
