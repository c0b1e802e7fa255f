package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	goclient "github.com/chatroom/gochat/client"
	"github.com/chatroom/gochat/internal/devserver"
)

// TestGoClientSurvivesRestart: two Go clients talk across a full stop and
// restart of wrangler dev (the same persisted state): what was sent while
// the server was down goes out after the rejoin, and each message reaches
// the other client exactly once, in order.
func TestGoClientSurvivesRestart(t *testing.T) {
	t.Parallel()
	srv := ownServer(t, devserver.Options{Name: "goclient-restart", Config: "wrangler.toml"})
	room := uniqueRoom(t)
	opts := func(user string) goclient.Options {
		return goclient.Options{URL: srv.HTTP, Room: room, UserID: user,
			BackoffMin: 100 * time.Millisecond, BackoffMax: time.Second}
	}
	alice, aliceLog := goDial(t, opts("alice"))
	_, bobLog := goDial(t, opts("bob"))
	var want []string
	for i := 1; i <= 3; i++ {
		text := fmt.Sprintf("before %d", i)
		if m := goSend(t, alice, text); m.ID != int64(i) {
			t.Errorf("%s: id %d", text, m.ID)
		}
		want = append(want, text)
	}
	bobLog.waitFor(t, "bob has the first messages", func(evs []goclient.Event) bool { return len(texts(evs)) == 3 })

	url := srv.HTTP
	srv.Stop()
	for _, r := range []*recorder{aliceLog, bobLog} {
		r.waitFor(t, "reconnecting", func(evs []goclient.Event) bool { return statuses(evs, goclient.Reconnecting) > 0 })
	}
	type sent struct {
		m   goclient.Message
		err error
	}
	results := make([]chan sent, 2)
	for i := range results {
		text := fmt.Sprintf("during %d", i+1)
		want = append(want, text)
		results[i] = make(chan sent, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 4*waitTimeout)
			defer cancel()
			m, err := alice.Send(ctx, text)
			results[i] <- sent{m, err}
		}()
		waitQueuedGo(t, alice, i+1) // queued in this order
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if srv.HTTP != url {
		t.Fatalf("the server came back on another port (%s, was %s): its port was taken", srv.HTTP, url)
	}
	for i, ch := range results {
		r := <-ch
		if r.err != nil || r.m.ID != int64(4+i) {
			t.Errorf("during %d: %+v %v", i+1, r.m, r.err)
		}
	}
	goSend(t, alice, "after")
	want = append(want, "after")
	bobLog.waitFor(t, "bob has every message", func(evs []goclient.Event) bool { return len(texts(evs)) >= len(want) })
	bobLog.mu.Lock()
	got := texts(bobLog.events)
	bobLog.mu.Unlock()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("bob got %q\nwant %q", got, want)
	}
	status, body, _ := get(t, srv.HTTP+"/api/rooms/"+room+"/messages?limit=500", nil)
	var page struct{ Messages []wireMsg }
	json.Unmarshal([]byte(body), &page)
	var stored []string
	for _, m := range page.Messages {
		stored = append(stored, m.Text)
	}
	if status != 200 || fmt.Sprint(stored) != fmt.Sprint(want) {
		t.Errorf("stored %d %q\nwant %q", status, stored, want)
	}
}

// TestGoClientEviction: a forced eviction between the steps of a
// conversation costs the Go clients nothing (their sockets survive it), and
// a reader that left resumes from its LastID across one.
func TestGoClientEviction(t *testing.T) {
	t.Parallel()
	room := uniqueRoom(t)
	opts := func(user string, since int64) goclient.Options {
		return goclient.Options{URL: evict.HTTP, Room: room, UserID: user, Since: since}
	}
	alice, aliceLog := goDial(t, opts("alice", 0))
	bob, bobLog := goDial(t, opts("bob", 0))
	goSend(t, alice, "one")
	evictOn(t, evict)
	goSend(t, alice, "two")
	evictOn(t, evict)
	goSend(t, bob, "three")
	aliceLog.waitFor(t, "alice has three", func(evs []goclient.Event) bool { return len(texts(evs)) == 3 })
	bobLog.waitFor(t, "bob has three", func(evs []goclient.Event) bool { return len(texts(evs)) == 3 })
	since := bob.LastID()
	bob.Close()

	goSend(t, alice, "four")
	goSend(t, alice, "five")
	evictOn(t, evict)
	_, bob2Log := goDial(t, opts("bob", since))
	bob2Log.mu.Lock()
	var hist *goclient.History
	for _, ev := range bob2Log.events {
		if h, ok := ev.(*goclient.History); ok {
			hist = h
		}
	}
	bob2Log.mu.Unlock()
	if hist == nil || !hist.Resumed || fmt.Sprint(texts([]goclient.Event{hist})) != "[four five]" {
		t.Errorf("bob's resumed history %+v", hist)
	}
	aliceLog.mu.Lock()
	defer aliceLog.mu.Unlock()
	if n := statuses(aliceLog.events, goclient.Reconnecting); n != 0 {
		t.Errorf("alice reconnected %d times; the evictions should not touch her socket", n)
	}
	if got := fmt.Sprint(texts(aliceLog.events)); got != "[one two three four five]" {
		t.Errorf("alice got %s", got)
	}
}

// buildChat builds cmd/chat into the test's temporary directory.
func buildChat(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "chat")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/chat")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/chat: %v\n%s", err, out)
	}
	return bin
}

// TestGoClientCmdSend: `chat -send` posts one message and exits 0, or exits
// non-zero with the room's error code on stderr.
func TestGoClientCmdSend(t *testing.T) {
	t.Parallel()
	bin := buildChat(t)
	room := uniqueRoom(t)
	run := func(text string) (int, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*waitTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "-url", dev.HTTP, "-room", room, "-user", "carol", "-send", text)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("chat -send: %v", err)
		}
		return cmd.ProcessState.ExitCode(), stderr.String()
	}
	if code, stderr := run("hello from the terminal"); code != 0 || stderr != "" {
		t.Errorf("-send: exit %d, stderr %q", code, stderr)
	}
	if code, stderr := run(strings.Repeat("x", 5000)); code == 0 || !strings.Contains(stderr, "message_too_long") {
		t.Errorf("-send of a long text: exit %d, stderr %q", code, stderr)
	}
	status, body, _ := get(t, dev.HTTP+"/api/rooms/"+room+"/messages", nil)
	var page struct{ Messages []wireMsg }
	json.Unmarshal([]byte(body), &page)
	if status != 200 || len(page.Messages) != 1 || page.Messages[0].Text != "hello from the terminal" || page.Messages[0].UserID != "carol" {
		t.Errorf("stored: %d %s", status, body)
	}
}

// TestGoClientCmdJSON: `chat -json` prints every frame exactly as received,
// one per line, and exits 0 at the end of its input.
func TestGoClientCmdJSON(t *testing.T) {
	t.Parallel()
	bin := buildChat(t)
	room := uniqueRoom(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*waitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-json", "-url", dev.HTTP, "-room", room, "-user", "dave")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 16)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	nextLine := func() string {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("chat -json ended early; stderr %q", stderr.String())
			}
			return l
		case <-ctx.Done():
			t.Fatalf("no line from chat -json; stderr %q", stderr.String())
		}
		return ""
	}
	for _, want := range []string{
		`{"type":"user_joined","userId":"dave","timestamp":"*"}`,
		`{"type":"presence","users":["dave"]}`,
		`{"type":"history","messages":[]}`,
		`{"type":"read_state","lastRead":0,"unread":0}`,
	} {
		if err := match(want, nextLine()); err != nil {
			t.Fatal(err)
		}
	}
	alice, _ := goDial(t, goclient.Options{URL: dev.HTTP, Room: room, UserID: "alice"})
	if err := match(joinedT("alice"), nextLine()); err != nil {
		t.Fatal(err)
	}
	m := goSend(t, alice, `quotes " and <html> & unicode é`)
	if got := nextLine(); got != string(m.Raw) {
		t.Errorf("chat -json printed %s\nthe frame was %s", got, m.Raw)
	}
	stdin.Close()
	for range lines { // the rest, if any
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("chat -json at the end of input: %v; stderr %q", err, stderr.String())
	}
}

// TestGoClientCmdInteractive: `chat` reads lines and commands from stdin and
// prints a plain transcript when stdout is not a terminal.
func TestGoClientCmdInteractive(t *testing.T) {
	t.Parallel()
	bin := buildChat(t)
	room := uniqueRoom(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*waitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-url", dev.HTTP, "-room", room, "-user", "erin")
	cmd.Stdin = strings.NewReader("hello there\n/history 5\n/who\n/nope\n/quit\nnever sent\n")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chat: %v; stderr %q", err, stderr.String())
	}
	transcript := string(out)
	for _, want := range []string{
		"-- connecting to " + room,
		"-- joined " + room,
		"* here: erin",
		"] erin: hello there", // the echo, and again from /history
		"* here: erin (1 connections)",
		"! unknown command /nope",
	} {
		if !strings.Contains(transcript, want) {
			t.Errorf("transcript lacks %q:\n%s", want, transcript)
		}
	}
	if n := strings.Count(transcript, "] erin: hello there"); n != 2 {
		t.Errorf("the message shows %d times, want 2 (the echo and /history):\n%s", n, transcript)
	}
	if strings.Contains(transcript, "\x1b[") {
		t.Errorf("colors on a pipe:\n%q", transcript)
	}
	status, body, _ := get(t, dev.HTTP+"/api/rooms/"+room+"/messages", nil)
	if status != 200 || strings.Contains(body, "never sent") || !strings.Contains(body, "hello there") {
		t.Errorf("stored: %d %s", status, body)
	}
}
