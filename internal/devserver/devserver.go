// Package devserver starts and stops `wrangler dev` for tests, benchmarks and
// tools, the way `make dev` runs it: offline, on loopback, in a process group
// of its own so that stopping it also stops workerd.
package devserver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// StartTimeout bounds how long wrangler dev may take to answer its first request.
const StartTimeout = 90 * time.Second

// portAttempts bounds the starts on a fresh port when the free port picked
// was taken before workerd could bind it: another process on the machine may
// take it meanwhile (see portSpan for why that is rare).
const portAttempts = 3

// errPortTaken is a start that failed because the port was taken.
var errPortTaken = errors.New("the port was taken before workerd could bind it")

// Options say which configuration to run and how.
type Options struct {
	// Name labels the server in errors and logs.
	Name string
	// Root is the repository root, where package.json, node_modules and build/ live.
	Root string
	// Config is the wrangler config path, relative to Root.
	Config string
	// Env is added to the environment, e.g. MINIFLARE_WORKERD_PATH=...
	Env []string
	// Args are extra wrangler dev arguments, e.g. --var NAME:VALUE.
	Args []string
	// StateDir is the --persist-to directory; a temporary one when empty.
	StateDir string
	// Port is the port to listen on; a free one when zero.
	Port int
}

// Server is one running `wrangler dev`.
type Server struct {
	opts    Options
	HTTP    string // http://127.0.0.1:PORT
	WS      string // ws://127.0.0.1:PORT
	Port    int
	LogPath string
	State   string
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has been waited for
	// pickPort is set when the caller left the port to us: a start that
	// finds it taken then tries another.
	pickPort bool
}

// NextWorkerd is the newer workerd binary installed beside wrangler's own, the
// only one with workerd:unsafe's forced eviction. Tests and benchmarks only.
func NextWorkerd(root string) string {
	p, _ := filepath.Abs(filepath.Join(root, "node_modules", "workerd-next", "bin", "workerd"))
	return p
}

// FreePort returns a loopback port nobody listens on right now, one this
// process has not handed out before, below the kernel's ephemeral range (see
// portSpan).
func FreePort() (int, error) {
	low := ephemeralLow()
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 200 {
		p := low - portSpan + rand.IntN(portSpan)
		if portsHanded[p] {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		l.Close()
		portsHanded[p] = true
		return p, nil
	}
	return 0, fmt.Errorf("no free port in %d-%d", low-portSpan, low-1)
}

// portSpan is how many ports below the kernel's ephemeral range FreePort
// picks from. Below it, because listen(:0) and connect() draw from that
// range: Miniflare picks workerd's own sockets that way, and every client's
// socket takes one too, so a port picked inside it could be taken by another
// server's workerd between the pick and the bind (seen in an e2e run: a
// server's health check was then answered by another server's Worker, and
// its test talked to the wrong server). Outside it, only another pick can collide, and
// portsHanded stops that within a process.
const portSpan = 10000

var (
	portsMu     sync.Mutex
	portsHanded = map[int]bool{} // every port FreePort handed out
)

// ephemeralLow is the first port of the kernel's ephemeral range (32768
// unless configured otherwise).
func ephemeralLow() int {
	data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if f := strings.Fields(string(data)); err == nil && len(f) == 2 {
		if low, err := strconv.Atoi(f[0]); err == nil && low > portSpan+1024 {
			return low
		}
	}
	return 32768
}

// Start runs wrangler dev and waits until its log says it is ready on its
// port and /api/health answers 200 there.
func Start(opts Options) (*Server, error) {
	dir, err := os.MkdirTemp("", "gochat-"+opts.Name+"-")
	if err != nil {
		return nil, err
	}
	if opts.StateDir == "" {
		opts.StateDir = filepath.Join(dir, "state")
	}
	s := &Server{opts: opts, LogPath: filepath.Join(dir, "wrangler.log"), State: opts.StateDir, pickPort: opts.Port == 0}
	return s, s.Restart()
}

// Restart starts the server again on the same port and state, stopping it
// first if it runs. A port it picked itself that turns out taken is replaced
// by another.
func (s *Server) Restart() error {
	s.Stop() // a no-op when stopped
	for attempt := 1; ; attempt++ {
		err := s.start()
		if err == nil || !errors.Is(err, errPortTaken) || !s.pickPort || attempt == portAttempts {
			return err
		}
		s.opts.Port = 0
	}
}

func (s *Server) start() error {
	port := s.opts.Port
	if port == 0 {
		p, err := FreePort()
		if err != nil {
			return err
		}
		port = p
		s.opts.Port = p
	}
	inspector, err := FreePort()
	if err != nil {
		return err
	}
	s.Port = port
	s.HTTP = fmt.Sprintf("http://127.0.0.1:%d", port)
	s.WS = fmt.Sprintf("ws://127.0.0.1:%d", port)
	logf, err := os.OpenFile(s.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	// This start's lines are those after from: a restart appends to the log.
	from, err := logf.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	ready := "Ready on " + s.HTTP
	args := []string{"dev",
		"--config", s.opts.Config,
		"--ip", "127.0.0.1", "--port", strconv.Itoa(port),
		"--inspector-port", strconv.Itoa(inspector),
		"--show-interactive-dev-session=false",
		"--persist-to", s.State,
	}
	s.cmd = exec.Command(filepath.Join("node_modules", ".bin", "wrangler"), append(args, s.opts.Args...)...)
	s.cmd.Dir = s.opts.Root
	s.cmd.Env = append(os.Environ(),
		"WRANGLER_SEND_METRICS=false",
		"WRANGLER_HIDE_BANNER=true",
		"CLOUDFLARE_CF_FETCH_ENABLED=false",
		"CI=true", // no interactive prompts
	)
	s.cmd.Env = append(s.cmd.Env, s.opts.Env...)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return err
	}
	s.exited = make(chan struct{})
	go func(cmd *exec.Cmd, exited chan struct{}) { _ = cmd.Wait(); close(exited) }(s.cmd, s.exited)
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	for polls := 1; ; polls++ {
		// Both: whatever listens on the port answers the health check, and
		// only the line says that this server is the one listening.
		if s.logLine(from, ready) != "" && s.healthy(ctx) {
			return nil
		}
		failed := ""
		select {
		case <-ctx.Done():
			failed = fmt.Sprintf("did not answer within %v", StartTimeout)
		case <-s.exited:
			failed = "exited before it answered"
		case <-time.After(100 * time.Millisecond):
			if polls%10 == 0 && s.logLine(from, "Address already in use") != "" {
				failed = "could not bind its port"
			}
		}
		if failed == "" {
			continue
		}
		// The cause may sit above the tail: a wrangler that exits can dump
		// its bundler's goroutines after workerd's bind failure.
		bind := s.logLine(from, "Address already in use")
		tail := s.LogTail(30)
		s.Stop()
		err := fmt.Errorf("%s: wrangler dev %s; log: %s\n%s", s.opts.Name, failed, s.LogPath, tail)
		if bind != "" {
			err = fmt.Errorf("%w: %s: %w", errPortTaken, bind, err)
		}
		return err
	}
}

// pollTimeout bounds one health poll: whatever holds the port may accept the
// connection and never answer.
const pollTimeout = 2 * time.Second

// healthy reports whether /api/health answers 200.
func (s *Server) healthy(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, pollTimeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.HTTP+"/api/health", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == 200
}

// Stop ends the whole process group and waits for it.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	pgid := s.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-s.exited
	}
	// workerd may outlive wrangler by a moment; make sure the group is gone.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	s.cmd = nil
}

// PGID is the process group of the running server, 0 when stopped.
func (s *Server) PGID() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// WorkerdRSS is the resident memory of the server's workerd processes, in bytes.
func (s *Server) WorkerdRSS() (int64, error) { return s.rss(false) }

// WorkerRSS is the resident memory of the Worker's own workerd process, not
// counting the proxy wrangler dev runs in front of it.
func (s *Server) WorkerRSS() (int64, error) { return s.rss(true) }

func (s *Server) rss(workerOnly bool) (int64, error) {
	procs, err := s.workerdProcs(workerOnly)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, proc := range procs {
		status, err := os.ReadFile(filepath.Join(proc, "status"))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(status), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				total += kb * 1024
			}
		}
	}
	return total, nil
}

// workerdProcs lists the /proc directories of the server's workerd
// processes; with workerOnly, only the Worker's own, not the proxy that
// wrangler dev runs on the server's port.
func (s *Server) workerdProcs(workerOnly bool) ([]string, error) {
	pgid := s.PGID()
	if pgid == 0 {
		return nil, fmt.Errorf("%s is not running", s.opts.Name)
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	front := fmt.Sprintf("127.0.0.1:%d", s.Port)
	var out []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if g, err := syscall.Getpgid(pid); err != nil || g != pgid {
			continue
		}
		dir := filepath.Join("/proc", e.Name())
		if comm, _ := os.ReadFile(filepath.Join(dir, "comm")); strings.TrimSpace(string(comm)) != "workerd" {
			continue
		}
		if cmdline, _ := os.ReadFile(filepath.Join(dir, "cmdline")); workerOnly && strings.Contains(string(cmdline), front) {
			continue
		}
		out = append(out, dir)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no workerd process found", s.opts.Name)
	}
	return out, nil
}

// logLine returns the first line of the log from the offset from on that
// contains substr, or "".
func (s *Server) logLine(from int64, substr string) string {
	f, err := os.Open(s.LogPath)
	if err != nil {
		return ""
	}
	defer f.Close()
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return ""
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), substr) {
			return sc.Text()
		}
	}
	return ""
}

// LogTail returns the last n lines of the server's log.
func (s *Server) LogTail(n int) string {
	f, err := os.Open(s.LogPath)
	if err != nil {
		return ""
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// WorkerCPU is the CPU time (user and system) used so far by the workerd
// process that runs the Worker itself, not by the one wrangler puts in front
// of it as a proxy (which listens on the server's port).
func (s *Server) WorkerCPU() (time.Duration, error) {
	procs, err := s.workerdProcs(true)
	if err != nil {
		return 0, err
	}
	var ticks int64
	for _, proc := range procs {
		stat, err := os.ReadFile(filepath.Join(proc, "stat"))
		if err != nil {
			continue
		}
		// Fields after the parenthesised command name; utime and stime are
		// the 14th and 15th fields of the whole line.
		rest := string(stat)
		if i := strings.LastIndexByte(rest, ')'); i >= 0 {
			rest = rest[i+1:]
		}
		if f := strings.Fields(rest); len(f) >= 13 {
			u, _ := strconv.ParseInt(f[11], 10, 64)
			st, _ := strconv.ParseInt(f[12], 10, 64)
			ticks += u + st
		}
	}
	const clockTicks = 100 // USER_HZ on Linux
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// WorkerURL is the address of the Worker's own workerd, behind the proxy
// that wrangler dev puts on the server's port. A connection through the proxy
// holds file descriptors in both processes; going direct halves that, which
// is what lets a single machine with a 20,000 descriptor limit hold 10,000
// WebSockets. It is found among the Worker process's listening sockets as
// the one that answers /api/health.
func (s *Server) WorkerURL() (string, error) {
	procs, err := s.workerdProcs(true)
	if err != nil {
		return "", err
	}
	listening := map[string]int{} // socket inode -> port
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, _ := os.ReadFile(table)
		for _, line := range strings.Split(string(data), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 10 || f[3] != "0A" { // 0A: LISTEN
				continue
			}
			if i := strings.LastIndexByte(f[1], ':'); i >= 0 {
				if port, err := strconv.ParseInt(f[1][i+1:], 16, 32); err == nil {
					listening[f[9]] = int(port)
				}
			}
		}
	}
	client := http.Client{Timeout: 2 * time.Second}
	for _, proc := range procs {
		fds, _ := os.ReadDir(filepath.Join(proc, "fd"))
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(proc, "fd", fd.Name()))
			if err != nil || !strings.HasPrefix(link, "socket:[") {
				continue
			}
			port, ok := listening[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")]
			if !ok {
				continue
			}
			u := fmt.Sprintf("http://127.0.0.1:%d", port)
			if res, err := client.Get(u + "/api/health"); err == nil {
				res.Body.Close()
				if res.StatusCode == 200 {
					return u, nil
				}
			}
		}
	}
	return "", fmt.Errorf("%s: the Worker's own socket was not found", s.opts.Name)
}
