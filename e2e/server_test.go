package e2e

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/chatroom/gochat/internal/devserver"
)

// The servers every test talks to, started once in TestMain:
//   - dev runs wrangler.toml with wrangler's own workerd, exactly as make dev;
//   - evict runs e2e/wrangler.toml on the newer workerd, which can force
//     eviction; it is the only one with /__test routes.
var (
	dev   *server
	evict *server
)

type server = devserver.Server

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
	var devErr, evictErr error
	wg.Add(2)
	go func() {
		defer wg.Done()
		dev, devErr = devserver.Start(devserver.Options{Name: "dev", Root: root, Config: "wrangler.toml"})
	}()
	go func() {
		defer wg.Done()
		evict, evictErr = devserver.Start(devserver.Options{Name: "evict", Root: root, Config: "e2e/wrangler.toml",
			Env: []string{"MINIFLARE_WORKERD_PATH=" + devserver.NextWorkerd(root)}})
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
		s.Stop()
		if code != 0 || *keepLogs {
			fmt.Fprintf(os.Stderr, "--- wrangler dev log tail (%s) ---\n%s\n", s.LogPath, s.LogTail(80))
		}
	}
	os.Exit(code)
}
