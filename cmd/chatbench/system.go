package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"syscall"
)

// raiseOpenFiles lifts the soft open-file limit to the hard one, in process:
// each connection is a file descriptor, and 10,000 of them exceed the usual
// soft limit of 1024. A server chatbench starts inherits the raised limit,
// which workerd needs as much as we do. It says what it did.
func raiseOpenFiles() string {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return "unknown (" + err.Error() + ")"
	}
	if lim.Cur >= lim.Max {
		return fmt.Sprintf("soft limit already at the hard limit, %d", lim.Cur)
	}
	before := lim.Cur
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Sprintf("%d; raising it to %d failed: %v", before, lim.Max, err)
	}
	return fmt.Sprintf("raised the soft limit from %d to the hard limit %d (setrlimit RLIMIT_NOFILE)", before, lim.Max)
}

// workerdFDsPerConn is how many file descriptors workerd holds per client
// WebSocket under wrangler dev, measured: about 11,700 across its processes'
// busiest one at 2,930 connections.
const workerdFDsPerConn = 4

// workerdDirectFDsPerConn is the same, measured for connections made straight
// to the Worker's own workerd (devserver.WorkerURL): about 2.
const workerdDirectFDsPerConn = 2

// FullHold is the hold size of -size full: the issue's 10,000, or as many as
// the Worker's workerd can hold under this machine's open-file hard limit,
// keeping some descriptors for everything else.
func FullHold() int {
	if lim, ok := hardOpenFileLimit(); ok && lim > 1000 {
		return int(min(uint64(IssueHold), (lim-500)/workerdDirectFDsPerConn))
	}
	return IssueHold
}

// openFileLimit is this process's soft open-file limit, which a server it
// starts inherits.
func openFileLimit() (uint64, bool) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, false
	}
	return lim.Cur, true
}

// machine describes this computer: CPU count and model.
func machine() Machine {
	return Machine{
		NProc: runtime.NumCPU(),
		CPU:   cpuModel("/proc/cpuinfo"),
		OS:    runtime.GOOS + "/" + runtime.GOARCH,
		Go:    runtime.Version(),
	}
}

// cpuModel reads the first "model name" of a cpuinfo file.
func cpuModel(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	return parseCPUModel(f)
}

func parseCPUModel(r io.Reader) string {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// wasmSize measures a Wasm module raw and gzip -9.
func wasmSize(path string) (*Wasm, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(data)
	zw.Close()
	return &Wasm{Path: path, Bytes: int64(len(data)), GzipBytes: int64(buf.Len())}, nil
}

// hardOpenFileLimit is this process's hard open-file limit, the most a
// server it starts can raise its own to.
func hardOpenFileLimit() (uint64, bool) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, false
	}
	return lim.Max, true
}
