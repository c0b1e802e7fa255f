package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// evictAll forces every Durable Object of the evict server out of memory,
// keeping their hibernatable sockets, as the runtime does after 10 s idle.
func evictAll(t *testing.T) { t.Helper(); evictOn(t, evict) }

func evictOn(t *testing.T, srv *server) {
	t.Helper()
	status, body, _ := get(t, srv.HTTP+"/__test/evict", nil)
	if status != 200 {
		t.Fatalf("evict: %d %s", status, body)
	}
}

// constructed is how many ChatRoom constructors have run on srv, a server of
// the test config (the only one with /__test routes).
func constructed(t *testing.T, srv *server) int {
	t.Helper()
	status, body, _ := get(t, srv.HTTP+"/__test/constructed", nil)
	var v struct{ Constructed int }
	if status != 200 || json.Unmarshal([]byte(body), &v) != nil {
		t.Fatalf("constructed: %d %s", status, body)
	}
	return v.Constructed
}

// TestEvictionBetweenEverySteps runs a whole conversation with every object
// evicted between any two events: each handler must answer from attachments
// exactly as it would from memory.
func TestEvictionBetweenEverySteps(t *testing.T) {
	// raw: joins by message, joins as another user, sends before joining and a frame over 1 MiB.
	path := "/api/chat/" + uniqueRoom(t)
	wakes := 0
	step := func() {
		t.Helper()
		evictAll(t)
		wakes++
	}
	start := constructed(t, evict)

	a := dial(t, evict, path, "alice")
	step()
	a.send(`{"type":"join","userId":"alice"}`)
	a.welcome("alice")
	step()
	b := dial(t, evict, path, "bob")
	step()
	b.send(`{"type":"message","text":"implicit","userId":"bob"}`)
	b.welcome("bob")
	b.expect(msgT("bob", "implicit"))
	a.expect(joinedT("bob"), msgT("bob", "implicit"))
	step()
	b.send(`{"type":"join","userId":"bob"}`) // same user again: no-op
	b.quiet()
	step()
	b.send(`{"type":"join","userId":"carol"}`)
	b.expect(errT("already_joined"))
	step()
	a.send(`{"type":"message","text":"hello","userId":"mallory"}`)
	a.expect(msgT("alice", "hello"))
	b.expect(msgT("alice", "hello"))
	step()
	tab := dial(t, evict, path, "alice-tab")
	step()
	tab.send(`{"type":"join","userId":"alice"}`)
	tab.welcome("alice")
	step()
	a.quiet()
	b.quiet()
	step()
	a.leave(websocket.StatusNormalClosure, "") // alice still has a tab
	step()
	b.quiet()
	step()
	lurker := dial(t, evict, path, "lurker")
	step()
	lurker.send(`{"type":"message","text":"who am i"}`)
	lurker.expect(errT("not_joined"))
	step()
	tab.drop() // alice's last connection
	b.expect(leftT("alice"))
	step()
	b.quiet()
	step()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	_ = b.conn.Write(ctx, websocket.MessageText, []byte(strings.Repeat("x", 1<<20+1)))
	if code := b.closed(); code != websocket.StatusMessageTooBig {
		t.Fatalf("close code %d, want 1009", code)
	}
	step()
	lurker.send(`{"type":"join","userId":"dave"}`)
	lurker.welcome("dave")
	lurker.send(`{"type":"message","text":"alone"}`)
	lurker.expect(msgT("dave", "alone"))
	// Each eviction was followed by a wake that ran the constructor again.
	if got := constructed(t, evict) - start; got < wakes {
		t.Errorf("constructor ran %d times over %d evictions; eviction did not happen", got, wakes)
	}
}

// TestAutoResponseDoesNotWake checks that the exact ping is answered by the
// runtime while the object stays evicted.
func TestAutoResponseDoesNotWake(t *testing.T) {
	// raw: sends the exact ping bytes and a near miss, and counts the wakes.
	c := dial(t, evict, "/api/chat/"+uniqueRoom(t), "pinger")
	c.send(`{"type":"join","userId":"pinger"}`)
	c.welcome("pinger")
	evictAll(t)
	before := constructed(t, evict)
	for i := 0; i < 5; i++ {
		c.send(`{"type":"ping"}`)
		c.expect(`{"type":"pong"}`)
	}
	if after := constructed(t, evict); after != before {
		t.Errorf("exact pings woke the room: constructor ran %d times", after-before)
	}
	c.send(`{"type":"ping" }`) // any other ping wakes it and Go answers
	c.expect(`{"type":"pong"}`)
	if after := constructed(t, evict); after != before+1 {
		t.Errorf("constructor ran %d times for one waking ping, want 1", after-before)
	}
}

// naturalIdle is longer than workerd's hard-coded 10 s eviction delay.
const naturalIdle = 13 * time.Second

// TestNaturalHibernation leaves a room idle until workerd evicts it on its
// own, then checks that messages and a leave still carry the right identities.
func TestNaturalHibernation(t *testing.T) {
	// raw: the message after the nap carries a spoofed userId, which must not stick.
	t.Parallel()
	path := "/api/chat/" + uniqueRoom(t)
	a, b := dial(t, evict, path, "alice"), dial(t, evict, path, "bob")
	a.send(`{"type":"join","userId":"alice"}`)
	a.welcome("alice")
	b.send(`{"type":"join","userId":"bob"}`)
	b.welcome("bob")
	a.expect(joinedT("bob"))
	before := constructed(t, evict)

	ctx, cancel := context.WithTimeout(context.Background(), naturalIdle)
	defer cancel()
	<-ctx.Done() // idle on purpose: hibernation needs silence

	a.send(`{"type":"message","text":"after the nap","userId":"bob"}`)
	a.expect(msgT("alice", "after the nap"))
	b.expect(msgT("alice", "after the nap"))
	if constructed(t, evict) == before {
		t.Fatalf("the room was not evicted after %v idle", naturalIdle)
	}
	b.leave(websocket.StatusNormalClosure, "")
	a.expect(leftT("bob"))
	a.quiet()
}

// TestEvictionIsNotDeployed builds the upload bundle of the deploy config
// offline and checks that nothing in it can reach workerd:unsafe.
func TestEvictionIsNotDeployed(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	cmd := exec.Command(filepath.Join("node_modules", ".bin", "wrangler"), "deploy", "--dry-run", "--outdir", out)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "WRANGLER_SEND_METRICS=false", "WRANGLER_HIDE_BANNER=true", "CLOUDFLARE_CF_FETCH_ENABLED=false")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("wrangler deploy --dry-run: %v\n%s", err, b)
	}
	var bundle strings.Builder
	_ = filepath.Walk(out, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && (strings.HasSuffix(p, ".js") || strings.HasSuffix(p, ".mjs")) {
			b, _ := os.ReadFile(p)
			bundle.Write(b)
		}
		return nil
	})
	if bundle.Len() == 0 {
		t.Fatal("dry run wrote no JavaScript")
	}
	for _, banned := range []string{"evictAllDurableObjects", "__test", `"unsafe"`, "workerd:unsafe"} {
		if strings.Contains(bundle.String(), banned) {
			t.Errorf("deploy bundle contains %q", banned)
		}
	}
	cfg, _ := os.ReadFile(filepath.Join(root, "wrangler.toml"))
	if strings.Contains(string(cfg), "unsafe") {
		t.Error("wrangler.toml mentions unsafe flags")
	}
}
