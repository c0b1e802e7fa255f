package e2e

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The servers every test talks to, started once in TestMain:
//   - dev runs wrangler.toml with wrangler's own workerd, exactly as make dev;
//   - evict runs e2e/wrangler.toml on the newer workerd, which can force
//     eviction; it is the only one with /__test routes.
var (
	dev   *server
	evict *server
)

var keepLogs = flag.Bool("keep-logs", false, "print the wrangler logs even when the tests pass")

// root is the repository root, where package.json and build/ live.
const root = ".."

// startTimeout bounds how long wrangler dev may take to answer its first request.
const startTimeout = 90 * time.Second

func TestMain(m *testing.M) {
	flag.Parse()
	if _, err := os.Stat(filepath.Join(root, "build", "app.wasm")); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build/app.wasm is missing; run `make build` (make test does)")
		os.Exit(1)
	}
	var wg sync.WaitGroup
	var devErr, evictErr error
	wg.Add(2)
	go func() { defer wg.Done(); dev, devErr = startServer("dev", "wrangler.toml", nil) }()
	go func() {
		defer wg.Done()
		workerd, _ := filepath.Abs(filepath.Join(root, "node_modules", "workerd-next", "bin", "workerd"))
		evict, evictErr = startServer("evict", "e2e/wrangler.toml", []string{"MINIFLARE_WORKERD_PATH=" + workerd})
	}()
	wg.Wait()
	code := 1
	if err := errors.Join(devErr, evictErr); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
	} else {
		code = m.Run()
	}
	for _, s := range []*server{dev, evict} {
		if s == nil {
			continue
		}
		s.stop()
		if code != 0 || *keepLogs {
			s.dumpLog()
		}
	}
	os.Exit(code)
}

// server is one `wrangler dev` process group on a free loopback port.
type server struct {
	name    string
	http    string // http://127.0.0.1:PORT
	ws      string // ws://127.0.0.1:PORT
	cmd     *exec.Cmd
	logPath string
	state   string // --persist-to directory
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startServer(name, config string, env []string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	inspector, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "gochat-e2e-"+name+"-")
	if err != nil {
		return nil, err
	}
	s := &server{
		name:    name,
		http:    fmt.Sprintf("http://127.0.0.1:%d", port),
		ws:      fmt.Sprintf("ws://127.0.0.1:%d", port),
		logPath: filepath.Join(dir, "wrangler.log"),
		state:   filepath.Join(dir, "state"),
	}
	return s, s.start(config, port, inspector, env)
}

func (s *server) start(config string, port, inspector int, env []string) error {
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	s.cmd = exec.Command(filepath.Join("node_modules", ".bin", "wrangler"), "dev",
		"--config", config,
		"--ip", "127.0.0.1", "--port", fmt.Sprint(port),
		"--inspector-port", fmt.Sprint(inspector),
		"--show-interactive-dev-session=false",
		"--persist-to", s.state,
	)
	s.cmd.Dir = root
	s.cmd.Env = append(os.Environ(),
		"WRANGLER_SEND_METRICS=false",
		"WRANGLER_HIDE_BANNER=true",
		"CLOUDFLARE_CF_FETCH_ENABLED=false",
		"CI=true", // no interactive prompts
	)
	s.cmd.Env = append(s.cmd.Env, env...)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	// Its own process group: stopping npx/wrangler alone leaves workerd
	// holding the port.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", s.http+"/api/health", nil)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: wrangler dev did not answer within %v; log: %s", s.name, startTimeout, s.logPath)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stop ends the whole process group and waits for it.
func (s *server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	pgid := s.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-done
	}
	// workerd may outlive wrangler by a moment; make sure the group is gone.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	s.cmd = nil
}

func (s *server) dumpLog() {
	f, err := os.Open(s.logPath)
	if err != nil {
		return
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > 80 {
		lines = lines[len(lines)-80:]
	}
	fmt.Fprintf(os.Stderr, "--- wrangler dev (%s) log tail ---\n%s\n", s.name, strings.Join(lines, "\n"))
}

// logContains reports whether the server's log has a line with substr.
func (s *server) logContains(substr string) bool {
	b, _ := os.ReadFile(s.logPath)
	return strings.Contains(string(b), substr)
}
