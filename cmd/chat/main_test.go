package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chatroom/gochat/client"
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
	}
	clock := at.Local().Format("15:04")
	want := strings.Join([]string{
		"* here: alice, bob",
		"-- (older messages not shown)",
		"[" + clock + "] bob: hi",
		"* carol joined",
		"[" + clock + "] carol: hello",
		"* bob left",
		"! rate_limited: slow down (retry after 200ms)",
		"* 1200 users here",
	}, "\n") + "\n"

	for _, color := range []bool{false, true} {
		var buf bytes.Buffer
		p := &printer{w: &buf, color: color, self: "alice"}
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
