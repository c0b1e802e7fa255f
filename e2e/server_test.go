package e2e

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chatroom/gochat/internal/devserver"
)

// The servers every test talks to, started once in TestMain:
//   - dev runs wrangler.toml with wrangler's own workerd, exactly as make dev;
//   - evict runs e2e/wrangler.toml on the newer workerd, which can force
//     eviction; it is the only one with /__test routes.
//   - protected runs the same test config with every protection of issue 4
//     switched on by vars, with short limits.
var (
	dev       *server
	evict     *server
	protected *server
)

// protectedVars configure the protected server. The secret is a test value.
var protectedVars = map[string]string{
	"AUTH_SECRET":              testSecret,
	"ALLOWED_ORIGINS":          "https://chat.example.com,http://127.0.0.1:8787",
	"RATE_LIMIT_BURST":         "10",
	"RATE_LIMIT_PER_SECOND":    "5",
	"RATE_LIMIT_CLOSE_AFTER":   "50",
	"BLOCKED_WORDS":            "darn,heck",
	"IDLE_TIMEOUT_SECONDS":     "3",
	"MAX_CONNECTIONS_PER_ROOM": "3",
	"MAX_CONNECTIONS_PER_USER": "2",
	"MAX_CONNECTIONS_PER_IP":   "2",
	"FRAME_RATE_BURST":         "20",
	"FRAME_RATE_PER_SECOND":    "5",
	"UPGRADE_RATE_LIMIT":       "on",
	"AUTH_AUDIENCE":            testAudience,
	"AUTH_ISSUER":              testIssuer,
	"AUTH_MAX_TTL_SECONDS":     "3600",
}

// The protected server's token policy.
const (
	testAudience = "gochat-e2e"
	testIssuer   = "https://issuer.e2e.test"
)

const testSecret = "e2e-secret-not-for-production"

type server = devserver.Server

// ownServer starts a wrangler dev of the test's own (a config or vars the
// shared servers cannot have, or a restart that must not disturb them),
// stops it when the test ends, and logs the tail of its log if the test
// failed.
func ownServer(t *testing.T, opts devserver.Options) *server {
	t.Helper()
	opts.Root = root
	srv, err := devserver.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log tail:\n%s", srv.LogTail(40))
		}
	})
	return srv
}

var keepLogs = flag.Bool("keep-logs", false, "print the wrangler logs even when the tests pass")

// root is the repository root, where package.json and build/ live.
const root = ".."

func TestMain(m *testing.M) {
	flag.Parse()
	if _, err := os.Stat(filepath.Join(root, "build", "app.wasm")); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build/app.wasm is missing; run `make build` (make test does)")
		os.Exit(1)
	}
	var wg sync.WaitGroup
	var devErr, evictErr, protErr error
	next := []string{"MINIFLARE_WORKERD_PATH=" + devserver.NextWorkerd(root)}
	var protArgs []string
	for k, v := range protectedVars {
		protArgs = append(protArgs, "--var", k+":"+v)
	}
	wg.Add(3)
	go func() {
		defer wg.Done()
		dev, devErr = devserver.Start(devserver.Options{Name: "dev", Root: root, Config: "wrangler.toml"})
	}()
	go func() {
		defer wg.Done()
		evict, evictErr = devserver.Start(devserver.Options{Name: "evict", Root: root, Config: "e2e/wrangler.toml", Env: next})
	}()
	go func() {
		defer wg.Done()
		protected, protErr = devserver.Start(devserver.Options{Name: "protected", Root: root, Config: "e2e/wrangler.toml", Env: next, Args: protArgs})
	}()
	wg.Wait()
	code := 1
	if err := errors.Join(devErr, evictErr, protErr); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
	} else {
		code = m.Run()
	}
	if communitySrv != nil { // started by the first test that needed it
		communitySrv.Stop()
	}
	for _, s := range []*server{dev, evict, protected} {
		if s == nil {
			continue
		}
		s.Stop()
		if code != 0 || *keepLogs {
			fmt.Fprintf(os.Stderr, "--- wrangler dev log tail (%s) ---\n%s\n", s.LogPath, s.LogTail(80))
		}
	}
	os.Exit(code)
}

// TestTakenPort: a server asked for a port that is already taken fails at
// once, naming the cause, instead of waiting out its start timeout; a server
// that picks its own port (every other here) would pick another. It fails
// even when the holder answers the health check (as another wrangler's
// Worker would), instead of starting "healthy" and sending its test's
// traffic to the other server.
func TestTakenPort(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// hold listens on a port and returns it with its closer.
		hold func(t *testing.T) (int, func())
	}{
		{"by a listener that never answers", func(t *testing.T) (int, func()) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			return l.Addr().(*net.TCPAddr).Port, func() { l.Close() }
		}},
		{"by a server that answers /api/health", func(t *testing.T) (int, func()) {
			other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, `{"ok":true}`)
			}))
			return other.Listener.Addr().(*net.TCPAddr).Port, other.Close
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			port, release := tc.hold(t)
			defer release()
			srv, err := devserver.Start(devserver.Options{Name: "taken", Root: root, Config: "wrangler.toml", Port: port})
			if err == nil {
				srv.Stop()
				t.Fatalf("a server started on taken port %d", port)
			}
			if msg := err.Error(); !strings.Contains(msg, "Address already in use") || strings.Contains(msg, "did not answer within") {
				t.Errorf("error %q: want the bind failure, reported before the start timeout", msg)
			}
		})
	}
}
