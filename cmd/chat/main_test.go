package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chatroom/gochat/client"
	"github.com/chatroom/gochat/room/protocol"
)

func testEnv(vars map[string]string) (environment, *bytes.Buffer, *bytes.Buffer) {
	var stdout, stderr bytes.Buffer
	return environment{
		stdin:  strings.NewReader(""),
		stdout: &stdout,
		stderr: &stderr,
		getenv: func(k string) string { return vars[k] },
	}, &stdout, &stderr
}

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		args    []string
		vars    map[string]string
		want    config
		wantErr string
	}{
		{"defaults", []string{"-user", "alice"}, nil,
			config{url: client.DefaultURL, room: "lobby", user: "alice"}, ""},
		{"token from the environment", []string{"-room", "r"}, map[string]string{"CHAT_TOKEN": "tok"},
			config{url: client.DefaultURL, room: "r", token: "tok"}, ""},
		{"flag over environment", []string{"-user", "a", "-token", "flag"}, map[string]string{"CHAT_TOKEN": "env"},
			config{url: client.DefaultURL, room: "lobby", user: "a", token: "flag"}, ""},
		{"everything", []string{"-url", "http://x:1", "-user", "a", "-since", "7", "-json", "-send", "hi"}, nil,
			config{url: "http://x:1", room: "lobby", user: "a", since: 7, json: true, send: "hi"}, ""},
		{"no user", nil, nil, config{}, "-user is required"},
		{"stray argument", []string{"-user", "a", "hello"}, nil, config{}, "unexpected"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env, _, _ := testEnv(tc.vars)
			got, err := parse(tc.args, env)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("parse: %+v %v, want %+v", got, err, tc.want)
			}
		})
	}
}

// TestUsageExits2: a bad command line is reported and exits 2 without
// connecting anywhere.
func TestUsageExits2(t *testing.T) {
	t.Parallel()
	env, _, stderr := testEnv(nil)
	if code := run(context.Background(), []string{"-nope"}, env); code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), "usage: chat") {
		t.Errorf("stderr %q", stderr.String())
	}
}

// TestUnreachableExits1: a server that is not there is a plain error.
func TestUnreachableExits1(t *testing.T) {
	t.Parallel()
	env, _, stderr := testEnv(nil)
	code := run(context.Background(), []string{"-url", "http://127.0.0.1:1", "-user", "a", "-send", "hi"}, env)
	if code != 1 || !strings.HasPrefix(stderr.String(), "chat: ") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}

func TestPrinter(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 25, 19, 43, 21, 0, time.UTC)
	events := []client.Event{
		&client.Presence{Users: []string{"alice", "bob"}, Count: 2},
		&client.History{Messages: []client.Message{{ID: 1, UserID: "bob", Text: "hi", Time: at}}, Truncated: true},
		&client.UserJoined{UserID: "alice"}, // our own join: not shown
		&client.UserJoined{UserID: "carol"},
		&client.Message{ID: 2, UserID: "carol", Text: "hello", Time: at},
		&client.UserLeft{UserID: "bob"},
		&client.Error{Err: &client.RoomError{Code: "rate_limited", Message: "slow down", RetryAfter: 200 * time.Millisecond}},
		&client.Presence{Count: 1200, Truncated: true},
		&client.History{Messages: []client.Message{{ID: 3, UserID: "bob", Text: "fixed", Time: at, EditedAt: at}},
			Changes: []client.Event{&client.MessageEdited{ID: 4}}}, // the change is printed from its own event
		&client.MessageEdited{ID: 4, MessageID: 2, UserID: "carol", Text: "hello!", EditedAt: at},
		&client.MessageDeleted{ID: 5, MessageID: 1, By: "bob", Time: at},
		&client.Moderated{Kind: client.Kick, ID: 6, UserID: "carol", By: "mod", Reason: "off topic", Time: at},
		&client.Moderated{Kind: client.Ban, ID: 7, UserID: "carol", By: "mod", Until: at, Time: at},
		&client.Moderated{Kind: client.Mute, ID: 8, UserID: "dan", By: "mod", Reason: "spam", Time: at},
		&client.Moderated{Kind: client.Unmute, ID: 9, UserID: "dan", By: "mod", Time: at},
		&client.Moderated{Kind: client.Unban, ID: 10, UserID: "carol", By: "mod", Time: at},
		&client.RoomSettings{SlowModeSeconds: 30},
		&client.RoomSettings{},
		&client.Error{Err: &client.RoomError{Code: "muted", Message: "you are muted", Until: at}},
		&client.ReadState{LastRead: 37, Unread: 4},
		&client.ReadState{LastRead: 41, Unread: 2}, // a rejoin's: not shown
		&client.Typing{UserID: "carol"},
		&client.Typing{UserID: "alice"}, // another connection of ours: not shown
		&client.Read{UserID: "carol", ID: 41},
		&client.Reaction{ID: 11, MessageID: 2, Emoji: "👍", UserID: "bob", Added: true},
		&client.Reaction{ID: 12, MessageID: 2, Emoji: "👍", UserID: "bob"},
		&client.History{Messages: []client.Message{{ID: 13, UserID: "bob", Text: "vote", Time: at,
			Reactions: []protocol.ReactionSummary{{Emoji: "👍", Count: 3}, {Emoji: "🎉", Count: 1}}}}},
	}
	clock := at.Local().Format("15:04")
	want := strings.Join([]string{
		"* here: alice, bob",
		"-- (older messages not shown)",
		"#1 [" + clock + "] bob: hi",
		"* carol joined",
		"#2 [" + clock + "] carol: hello",
		"* bob left",
		"! rate_limited: slow down (retry after 200ms)",
		"* 1200 users here",
		"#3 [" + clock + "] bob: fixed (edited)",
		"* carol edited #2: hello!",
		"* #1 was deleted by bob",
		"* carol was kicked by mod: off topic",
		"* carol was banned by mod until " + at.Local().Format("2006-01-02 15:04"),
		"* dan was muted by mod until lifted: spam",
		"* dan was unmuted by mod",
		"* carol was unbanned by mod",
		"* slow mode: one message every 30s",
		"* slow mode is off",
		"! muted: you are muted (until 2026-11-25T19:43:21Z)",
		"* 4 unread (read up to #37)",
		"* carol is typing…",
		"* bob reacted 👍 to #2",
		"* bob took back 👍 from #2",
		"#13 [" + clock + "] bob: vote [👍 3, 🎉 1]",
	}, "\n") + "\n"

	for _, color := range []bool{false, true} {
		var buf bytes.Buffer
		p := &printer{w: &buf, color: color, self: "alice", ids: true, now: func() time.Time { return at }}
		for _, ev := range events {
			p.event(ev)
		}
		got := buf.String()
		if !color {
			if got != want {
				t.Errorf("plain output:\n%s\nwant:\n%s", got, want)
			}
			continue
		}
		if !strings.Contains(got, "\x1b[") || stripANSI(got) != want {
			t.Errorf("colored output:\n%q", got)
		}
		if p.name("bob") != p.name("bob") {
			t.Errorf("a user's color changes")
		}
	}
}

func stripANSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b {
			for i < len(s) && s[i] != 'm' {
				i++
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// fakeRoom records the requests the commands make and answers them with err.
type fakeRoom struct {
	calls []string
	err   error
}

func (f *fakeRoom) Send(_ context.Context, text string) (client.Message, error) {
	f.calls = append(f.calls, fmt.Sprintf("send %q", text))
	return client.Message{}, f.err
}

func (f *fakeRoom) Edit(_ context.Context, id int64, text string) (client.MessageEdited, error) {
	f.calls = append(f.calls, fmt.Sprintf("edit %d %q", id, text))
	return client.MessageEdited{}, f.err
}

func (f *fakeRoom) Delete(_ context.Context, id int64) (client.MessageDeleted, error) {
	f.calls = append(f.calls, fmt.Sprintf("delete %d", id))
	return client.MessageDeleted{}, f.err
}

func (f *fakeRoom) React(_ context.Context, id int64, emoji string) (client.Reaction, error) {
	f.calls = append(f.calls, fmt.Sprintf("react %d %s", id, emoji))
	return client.Reaction{}, f.err
}

func (f *fakeRoom) MarkRead(_ context.Context, id int64) error {
	f.calls = append(f.calls, fmt.Sprintf("read %d", id))
	return f.err
}

func (f *fakeRoom) Moderate(_ context.Context, action client.Action, user string, seconds int64, reason string) (client.Moderated, error) {
	f.calls = append(f.calls, fmt.Sprintf("%s %s %d %q", action, user, seconds, reason))
	return client.Moderated{}, f.err
}

func (f *fakeRoom) SlowMode(_ context.Context, seconds int64) (client.RoomSettings, error) {
	f.calls = append(f.calls, fmt.Sprintf("slow %d", seconds))
	return client.RoomSettings{}, f.err
}

func (f *fakeRoom) RoomInfo(context.Context) (protocol.RoomInfo, error) {
	f.calls = append(f.calls, "info")
	return protocol.RoomInfo{Users: []string{"alice"}, Connections: 1, LastMessageID: 9}, f.err
}

func (f *fakeRoom) Messages(_ context.Context, q client.MessagesQuery) (protocol.MessagesPage, error) {
	f.calls = append(f.calls, fmt.Sprintf("messages %d %d", q.Since, q.Limit))
	return protocol.MessagesPage{Messages: []protocol.StoredMessage{
		{ID: 9, UserID: "bob", Text: "late", Timestamp: "2026-11-25T19:43:21.000Z", EditedAt: "2026-11-25T19:44:00.000Z",
			Reactions: []protocol.ReactionSummary{{Emoji: "👍", Count: 2, Users: []string{"alice", "carol"}}}}}}, f.err
}

// TestCommands: each command line makes its request, or prints its usage
// and makes none; the room's refusals are left to the error events, the
// client's own errors are printed.
func TestCommands(t *testing.T) {
	t.Parallel()
	clock := time.Date(2026, 11, 25, 19, 43, 21, 0, time.UTC).Local().Format("15:04")
	for _, tc := range []struct {
		line string
		err  error
		call string // "" for none
		out  string
	}{
		{"hello  world", nil, `send "hello  world"`, ""},
		{"//edit is a word", nil, `send "/edit is a word"`, ""},
		{"/edit 41 new   text", nil, `edit 41 "new   text"`, ""},
		{"/edit #41 new", nil, `edit 41 "new"`, ""},
		{"/edit 41", nil, "", "! usage: /edit ID TEXT"},
		{"/edit x text", nil, "", "! usage: /edit ID TEXT"},
		{"/edit 0 text", nil, "", "! usage: /edit ID TEXT"},
		{"/delete 41", nil, "delete 41", ""},
		{"/delete", nil, "", "! usage: /delete ID"},
		{"/delete 41 42", nil, "", "! usage: /delete ID"},
		{"/kick bob", nil, `kick bob 0 ""`, ""},
		{"/kick bob 60 off topic", nil, `kick bob 0 "60 off topic"`, ""},
		{"/kick", nil, "", "! usage: /kick USER"},
		{"/ban bob", nil, `ban bob 0 ""`, ""},
		{"/ban bob 3600", nil, `ban bob 3600 ""`, ""},
		{"/ban bob 3600 spam again", nil, `ban bob 3600 "spam again"`, ""},
		{"/ban bob spam", nil, `ban bob 0 "spam"`, ""},
		{"/ban bob -5", nil, "", "! usage: /ban USER"},
		{"/unban bob", nil, `unban bob 0 ""`, ""},
		{"/unban bob now", nil, "", "! usage: /unban USER"},
		{"/mute bob 60", nil, `mute bob 60 ""`, ""},
		{"/mute bob", nil, `mute bob 0 ""`, ""},
		{"/unmute bob", nil, `unmute bob 0 ""`, ""},
		{"/slow 30", nil, "slow 30", ""},
		{"/slow 0", nil, "slow 0", ""},
		{"/slow", nil, "", "! usage: /slow SECONDS"},
		{"/slow -1", nil, "", "! usage: /slow SECONDS"},
		{"/react 41 👍", nil, "react 41 👍", ""},
		{"/react #41 🇫🇷", nil, "react 41 🇫🇷", ""},
		{"/react 41", nil, "", "! usage: /react ID EMOJI"},
		{"/react 41 x", nil, "", "! usage: /react ID EMOJI"},
		{"/react 41 👍 👎", nil, "", "! usage: /react ID EMOJI"},
		{"/react x 👍", nil, "", "! usage: /react ID EMOJI"},
		{"/history 1", nil, "info", "#9 [" + clock + "] bob: late (edited) [👍 2]"},
		{"/nope", nil, "", "! unknown command /nope; try /who, /history N, /edit ID TEXT, /delete ID, /react ID EMOJI"},
		// The room's refusal prints from its error event, not here.
		{"/edit 41 x", &client.RoomError{Code: "not_found"}, `edit 41 "x"`, ""},
		{"/mute bob", &client.RoomError{Code: "forbidden"}, `mute bob 0 ""`, ""},
		{"/react 41 👍", &client.RoomError{Code: "not_found"}, "react 41 👍", ""},
		// The client's own errors print here.
		{"/delete 41", client.ErrUnconfirmed, "delete 41", "! delete: client: the connection dropped"},
		{"/ban bob", client.ErrQueueFull, `ban bob 0 ""`, "! ban: client: not connected"},
		{"/slow 5", errors.New("boom"), "slow 5", "! slow mode: boom"},
		{"/react 41 👍", client.ErrNotConnected, "react 41 👍", "! react: client: not connected"},
		{"hi", client.ErrClosed, `send "hi"`, "! not sent: client: closed"},
	} {
		t.Run(tc.line, func(t *testing.T) {
			t.Parallel()
			env, stdout, _ := testEnv(nil)
			f := &fakeRoom{err: tc.err}
			p := &printer{w: stdout, ids: true}
			if quit := command(context.Background(), f, p, tc.line, env); quit {
				t.Errorf("quit")
			}
			first := ""
			if len(f.calls) > 0 {
				first = f.calls[0]
			}
			if first != tc.call || (tc.call == "" && len(f.calls) != 0) {
				t.Errorf("calls %q, want %q", f.calls, tc.call)
			}
			got := strings.TrimSpace(stdout.String())
			if (tc.out == "") != (got == "") || !strings.HasPrefix(got, tc.out) {
				t.Errorf("printed %q, want %q", got, tc.out)
			}
		})
	}
}

// TestRawFrames: -json prints each frame once: a resume's changes came
// inside the history frame, so their events print nothing more.
func TestRawFrames(t *testing.T) {
	t.Parallel()
	edited := &client.MessageEdited{ID: 3, Raw: []byte(`{"type":"message_edited","id":3}`)}
	mod := &client.Moderated{ID: 4, Raw: []byte(`{"type":"user_muted","id":4}`)}
	reaction := &client.Reaction{ID: 5, Raw: []byte(`{"type":"reaction","id":5}`)}
	live := &client.MessageEdited{ID: 6, Raw: []byte(`{"type":"message_edited","id":6}`)}
	events := []client.Event{
		&client.History{Changes: []client.Event{edited, mod, reaction}, Raw: []byte(`{"type":"history","changes":[...]}`)},
		edited, mod, reaction,
		&client.Status{State: client.Open},
		&client.ReadState{Raw: []byte(`{"type":"read_state","lastRead":0,"unread":0}`)},
		live,
		&client.Typing{Raw: []byte(`{"type":"typing","userId":"bob"}`)},
		&client.RoomSettings{Raw: []byte(`{"type":"room_settings","slowModeSeconds":5}`)},
	}
	var r rawFrames
	var got []string
	for _, ev := range events {
		if raw := r.raw(ev); raw != nil {
			got = append(got, string(raw))
		}
	}
	want := `{"type":"history","changes":[...]} {"type":"read_state","lastRead":0,"unread":0} {"type":"message_edited","id":6} ` +
		`{"type":"typing","userId":"bob"} {"type":"room_settings","slowModeSeconds":5}`
	if strings.Join(got, " ") != want {
		t.Errorf("printed %v\nwant %s", got, want)
	}
}

// TestTypingLines: "is typing…" prints when a user starts typing: not for
// each signal while they type, again after client.TypingTimeout without
// one, and again after their message or their leaving.
func TestTypingLines(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 19, 43, 21, 0, time.UTC)
	var buf bytes.Buffer
	p := &printer{w: &buf, self: "alice", now: func() time.Time { return now }}
	step := func(d time.Duration, ev client.Event) {
		now = now.Add(d)
		p.event(ev)
	}
	typing := func(u string) client.Event { return &client.Typing{UserID: u} }
	step(0, typing("bob"))
	step(2*time.Second, typing("bob"))
	step(0, typing("carol"))
	step(2*time.Second, typing("bob"))
	step(client.TypingTimeout-time.Millisecond, typing("bob")) // still within: the last was just before
	step(client.TypingTimeout, typing("bob"))                  // expired: typing again
	step(time.Second, &client.Message{ID: 1, UserID: "bob", Text: "done", Time: now})
	step(time.Second, typing("bob")) // after the message: starts again
	step(0, &client.UserLeft{UserID: "carol"})
	step(0, typing("carol"))
	want := strings.Join([]string{
		"* bob is typing…",
		"* carol is typing…",
		"* bob is typing…",
		"[" + now.Local().Format("15:04") + "] bob: done",
		"* bob is typing…",
		"* carol left",
		"* carol is typing…",
	}, "\n") + "\n"
	if buf.String() != want {
		t.Errorf("printed:\n%s\nwant:\n%s", buf.String(), want)
	}
}

// TestMarkShown: the latest message shown, live or in a history, is
// marked read; other events mark nothing.
func TestMarkShown(t *testing.T) {
	t.Parallel()
	f := &fakeRoom{}
	for _, ev := range []client.Event{
		&client.History{Messages: []client.Message{{ID: 3}, {ID: 5}}},
		&client.History{Resumed: true},
		&client.Message{ID: 6},
		&client.MessageEdited{ID: 7, MessageID: 6},
		&client.Reaction{ID: 8, MessageID: 6},
		&client.ReadState{LastRead: 6},
		&client.Status{State: client.Open},
	} {
		markShown(context.Background(), f, ev)
	}
	if got := fmt.Sprint(f.calls); got != "[read 5 read 6]" {
		t.Errorf("calls %s", got)
	}
}

// TestUnreadLine: the unread count prints for the first join only, with
// "+" when capped, and not when there is none.
func TestUnreadLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		st   client.ReadState
		want string
	}{
		{client.ReadState{LastRead: 0, Unread: 3}, "* 3 unread\n"},
		{client.ReadState{LastRead: 2, Unread: 1000, Capped: true}, "* 1000+ unread (read up to #2)\n"},
		{client.ReadState{LastRead: 9}, ""},
	} {
		var buf bytes.Buffer
		p := &printer{w: &buf}
		p.event(&tc.st)
		p.event(&client.ReadState{Unread: 5})
		if buf.String() != tc.want {
			t.Errorf("%+v printed %q, want %q", tc.st, buf.String(), tc.want)
		}
	}
}

func TestMessageLineWithoutIDs(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	p := &printer{w: &buf}
	at := time.Date(2025, 10, 26, 5, 20, 0, 0, time.UTC)
	p.message(client.Message{ID: 3, UserID: "alice", Text: "hi", Time: at})
	if want := "[" + at.Local().Format("15:04") + "] alice: hi\n"; buf.String() != want {
		t.Errorf("printed %q, want %q", buf.String(), want)
	}
}
