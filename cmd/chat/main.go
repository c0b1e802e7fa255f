// Command chat is a terminal chat for gochat rooms, built on package client.
//
//	go run ./cmd/chat -room lobby -user alice
//
// Each line typed is a message; /who lists who is here, /history N shows the
// last N messages, /edit ID TEXT replaces the text of one of your messages,
// /delete ID deletes one, /react ID EMOJI adds your reaction to a message
// (or takes it back when it is there), /quit leaves (so does the end of
// input). With a moderator's or a service's token there are also /kick USER
// [REASON], /ban USER [SECONDS] [REASON] (without SECONDS, until lifted),
// /unban USER, /mute USER [SECONDS] [REASON], /unmute USER and /slow
// SECONDS (0 turns slow mode off). A line that starts with // sends the text
// from its second slash on.
//
// Messages print as "[15:04] alice: text" in local time (with -ids, their id
// first: "#12 [15:04] ...", for /edit, /delete and /react), "(edited)" when
// they were, their reactions after them ("[👍 3, 🎉 1]", as the history
// tells them), and a color per user when stdout is a terminal and NO_COLOR
// is not set. Edits, deletions, reactions ("* bob reacted 👍 to #41"),
// moderation events and slow mode print as "* ..." lines, refusals as
// "! code: message". The chat reconnects and resumes on its own and shows
// its status; a fatal error (a refused token, a refused name, being kicked
// or banned) is printed plainly and the exit status is 1.
//
// The live signals: when others type, "* alice is typing…" prints once
// when they start (again only after 6 s without a typing signal from them,
// or after their message). The chat reads whole lines, so it cannot tell
// that you are typing before you press Enter, and sends no typing signal of
// its own. On joining, "* 4 unread (read up to #37)" tells how many
// messages came since you last read; every message shown is marked read
// (the client sends at most one read marker a second).
//
// With -json every frame the room sends is printed as received, one per
// line (a resume's changes once, inside the history frame), statuses go
// to stderr, and nothing is marked read. With -send TEXT the chat posts one
// message, waits for the room's echo and exits 0, or exits 1 with the room's
// error code on stderr.
//
// Flags: -url (default http://127.0.0.1:8787), -room (default lobby), -user,
// -token (default $CHAT_TOKEN), -since (resume after this message id),
// -json, -send TEXT.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chatroom/gochat/client"
	"github.com/chatroom/gochat/room/protocol"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	env := environment{
		stdin:  os.Stdin,
		stdout: os.Stdout,
		stderr: os.Stderr,
		getenv: os.Getenv,
		tty:    isTerminal(os.Stdout),
	}
	os.Exit(run(ctx, os.Args[1:], env))
}

// environment is what the command reads and writes, so tests can supply it.
type environment struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	tty            bool // stdout is a terminal
}

// isTerminal reports whether f is a character device: a terminal, not a
// file or a pipe.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// sendTimeout bounds -send: connecting, the join and the echo.
const sendTimeout = 30 * time.Second

// config is the command line.
type config struct {
	url, room, user, token, send string
	since                        int64
	json, ids                    bool
}

func parse(args []string, env environment) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.StringVar(&cfg.url, "url", client.DefaultURL, "the server's base URL")
	fs.StringVar(&cfg.room, "room", client.DefaultRoom, "the room")
	fs.StringVar(&cfg.user, "user", "", "your user id (a token may name it instead)")
	fs.StringVar(&cfg.token, "token", env.getenv("CHAT_TOKEN"), "a signed token for a protected room (default $CHAT_TOKEN)")
	fs.Int64Var(&cfg.since, "since", 0, "resume after this message id")
	fs.BoolVar(&cfg.json, "json", false, "print every frame as received, one per line")
	fs.BoolVar(&cfg.ids, "ids", false, "show each message's id (#12), for /edit, /delete and /react")
	fs.StringVar(&cfg.send, "send", "", "post this one message, wait for its echo and exit")
	fs.Usage = func() {
		fmt.Fprintln(env.stderr, "usage: chat [-url URL] [-room ROOM] -user USER [-token TOKEN] [-since ID] [-ids] [-json] [-send TEXT]")
		fs.PrintDefaults()
		fmt.Fprintln(env.stderr, "\nIn the chat, each line is a message; "+commandsHelp+".")
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if cfg.user == "" && cfg.token == "" {
		return cfg, errors.New("-user is required (or a -token that names you)")
	}
	return cfg, nil
}

// run is the command; it returns the exit status.
func run(ctx context.Context, args []string, env environment) int {
	cfg, err := parse(args, env)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(env.stderr, "chat:", err)
		}
		return 2
	}
	opts := client.Options{URL: cfg.url, Room: cfg.room, UserID: cfg.user, Token: cfg.token, Since: cfg.since}
	if cfg.send != "" {
		return sendOne(ctx, opts, cfg, env)
	}
	return interactive(ctx, opts, cfg, env)
}

// sendOne posts one message and waits for its echo.
func sendOne(ctx context.Context, opts client.Options, cfg config, env environment) int {
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	c, err := client.Dial(ctx, opts)
	if err != nil {
		fmt.Fprintln(env.stderr, "chat:", err)
		return 1
	}
	defer c.Close()
	go func() {
		for range c.Events() { // Send's echo arrives through the events' reader
		}
	}()
	m, err := c.Send(ctx, cfg.send)
	if err != nil {
		fmt.Fprintln(env.stderr, "chat:", err)
		return 1
	}
	if cfg.json {
		fmt.Fprintf(env.stdout, "%s\n", m.Raw)
	}
	return 0
}

// interactive runs the chat until /quit, the end of input, an interrupt or
// a fatal error.
func interactive(ctx context.Context, opts client.Options, cfg config, env environment) int {
	out := &printer{w: env.stdout, color: env.tty && env.getenv("NO_COLOR") == "", self: cfg.user, ids: cfg.ids, now: time.Now}
	status := func(format string, a ...any) {
		if cfg.json {
			fmt.Fprintf(env.stderr, "chat: "+format+"\n", a...)
			return
		}
		out.line("-- " + fmt.Sprintf(format, a...))
	}
	status("connecting to %s at %s", cfg.room, cfg.url)
	c, err := client.Dial(ctx, opts)
	if err != nil {
		fmt.Fprintln(env.stderr, "chat:", err)
		return 1
	}
	defer c.Close()

	// The events: printed in order; a fatal error ends the chat.
	fatal := make(chan error, 1)
	go func() {
		everOpen := false
		var frames rawFrames
		for ev := range c.Events() {
			if st, ok := ev.(*client.Status); ok {
				switch st.State {
				case client.Open:
					if everOpen {
						status("reconnected")
					} else {
						status("joined %s", cfg.room)
					}
					everOpen = true
				case client.Reconnecting:
					status("connection lost (%v); reconnecting in %v (attempt %d)", st.Err, st.Delay.Round(time.Millisecond), st.Attempt)
				case client.Closed:
					if st.Err != nil {
						fatal <- st.Err
					}
				}
				continue
			}
			if cfg.json {
				if raw := frames.raw(ev); raw != nil {
					out.line(string(raw))
				}
				continue
			}
			out.event(ev)
			markShown(ctx, c, ev)
		}
	}()

	// The input: lines in order, each sent once the one before is answered.
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(env.stdin)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	for {
		select {
		case err := <-fatal:
			fmt.Fprintln(env.stderr, "chat:", err)
			return 1
		case <-ctx.Done():
			return 0
		case line, ok := <-lines:
			if !ok {
				return 0
			}
			if quit := command(ctx, c, out, line, env); quit {
				return 0
			}
		}
	}
}

// rawFrames tells the frames to print with -json: each event's, except
// the changes of a History, which arrive as events of their own after it
// but came inside the history frame, already printed.
type rawFrames struct {
	inHistory map[client.Event]bool
}

// raw is the frame to print for ev, or nil.
func (r *rawFrames) raw(ev client.Event) []byte {
	if h, ok := ev.(*client.History); ok {
		r.inHistory = make(map[client.Event]bool, len(h.Changes))
		for _, c := range h.Changes {
			r.inHistory[c] = true
		}
	}
	if r.inHistory[ev] {
		delete(r.inHistory, ev)
		return nil
	}
	return client.Raw(ev)
}

// markShown marks read the latest message ev showed, if any. The client
// coalesces the markers (one a second at most) and waits for a connection;
// an error can only be its end, which the events report.
func markShown(ctx context.Context, c room, ev client.Event) {
	var id int64
	switch ev := ev.(type) {
	case *client.Message:
		id = ev.ID
	case *client.History:
		if n := len(ev.Messages); n > 0 {
			id = ev.Messages[n-1].ID
		}
	}
	if id > 0 {
		_ = c.MarkRead(ctx, id)
	}
}

// room is what the commands use of a *client.Client, so tests can supply it.
type room interface {
	Send(ctx context.Context, text string) (client.Message, error)
	Edit(ctx context.Context, id int64, text string) (client.MessageEdited, error)
	Delete(ctx context.Context, id int64) (client.MessageDeleted, error)
	React(ctx context.Context, id int64, emoji string) (client.Reaction, error)
	MarkRead(ctx context.Context, id int64) error
	Moderate(ctx context.Context, action client.Action, userID string, seconds int64, reason string) (client.Moderated, error)
	SlowMode(ctx context.Context, seconds int64) (client.RoomSettings, error)
	RoomInfo(ctx context.Context) (protocol.RoomInfo, error)
	Messages(ctx context.Context, q client.MessagesQuery) (protocol.MessagesPage, error)
}

const commandsHelp = "try /who, /history N, /edit ID TEXT, /delete ID, /react ID EMOJI, /quit; moderators: /kick USER [REASON], " +
	"/ban USER [SECONDS] [REASON], /unban USER, /mute USER [SECONDS] [REASON], /unmute USER, /slow SECONDS " +
	"(start with // to send a slash)"

// command acts on one input line: a command or a message. It reports /quit.
func command(ctx context.Context, c room, out *printer, line string, env environment) bool {
	fields := strings.Fields(line)
	switch {
	case strings.TrimSpace(line) == "":
		return false
	case fields[0] == "/quit":
		return true
	case fields[0] == "/who":
		info, err := c.RoomInfo(ctx)
		if err != nil {
			out.line("! who: " + err.Error())
			return false
		}
		out.line(fmt.Sprintf("* here: %s (%d connections)", strings.Join(info.Users, ", "), info.Connections))
		return false
	case fields[0] == "/history":
		n := 20
		if len(fields) > 1 {
			v, err := strconv.Atoi(fields[1])
			if err != nil || v < 1 || v > 500 {
				out.line("! usage: /history N, with N from 1 to 500")
				return false
			}
			n = v
		}
		info, err := c.RoomInfo(ctx)
		if err != nil {
			out.line("! history: " + err.Error())
			return false
		}
		page, err := c.Messages(ctx, client.MessagesQuery{Since: max(0, info.LastMessageID-int64(n)), Limit: n})
		if err != nil {
			out.line("! history: " + err.Error())
			return false
		}
		for _, m := range page.Messages {
			msg := client.Message{ID: m.ID, UserID: m.UserID, Text: m.Text, Timestamp: m.Timestamp, Time: parseTime(m.Timestamp)}
			if m.EditedAt != "" {
				msg.EditedAt = parseTime(m.EditedAt)
			}
			msg.Reactions = m.Reactions
			out.message(msg)
		}
		return false
	case fields[0] == "/edit":
		id, ok := messageID(fields)
		text := rest(line, 2)
		if !ok || text == "" {
			out.line("! usage: /edit ID TEXT, with the id of one of your messages")
			return false
		}
		_, err := c.Edit(ctx, id, text)
		report(ctx, out, "edit", err)
		return false
	case fields[0] == "/delete":
		id, ok := messageID(fields)
		if !ok || len(fields) != 2 {
			out.line("! usage: /delete ID")
			return false
		}
		_, err := c.Delete(ctx, id)
		report(ctx, out, "delete", err)
		return false
	case fields[0] == "/react":
		id, ok := messageID(fields)
		if !ok || len(fields) != 3 || !protocol.ValidEmoji(fields[2]) {
			out.line("! usage: /react ID EMOJI, with one emoji; again to take it back")
			return false
		}
		_, err := c.React(ctx, id, fields[2])
		report(ctx, out, "react", err)
		return false
	case fields[0] == "/kick", fields[0] == "/ban", fields[0] == "/mute", fields[0] == "/unban", fields[0] == "/unmute":
		moderate(ctx, c, out, line, fields)
		return false
	case fields[0] == "/slow":
		var seconds int64 = -1
		if len(fields) == 2 {
			if v, err := strconv.ParseInt(fields[1], 10, 64); err == nil && v >= 0 {
				seconds = v
			}
		}
		if seconds < 0 {
			out.line("! usage: /slow SECONDS, 0 to turn slow mode off")
			return false
		}
		_, err := c.SlowMode(ctx, seconds)
		report(ctx, out, "slow mode", err)
		return false
	case strings.HasPrefix(line, "//"):
		line = line[1:] // "//x" sends "/x"
	case strings.HasPrefix(line, "/"):
		out.line("! unknown command " + fields[0] + "; " + commandsHelp)
		return false
	}
	text := line
	_, err := c.Send(ctx, text)
	report(ctx, out, "not sent", err)
	return false
}

// moderate runs /kick, /ban, /mute, /unban and /unmute.
func moderate(ctx context.Context, c room, out *printer, line string, fields []string) {
	action := client.Action(fields[0][1:])
	usage := map[client.Action]string{
		client.Kick:   "/kick USER [REASON]",
		client.Ban:    "/ban USER [SECONDS] [REASON] (without SECONDS, until lifted)",
		client.Mute:   "/mute USER [SECONDS] [REASON] (without SECONDS, until lifted)",
		client.Unban:  "/unban USER",
		client.Unmute: "/unmute USER",
	}[action]
	if len(fields) < 2 || ((action == client.Unban || action == client.Unmute) && len(fields) > 2) {
		out.line("! usage: " + usage)
		return
	}
	user, seconds, reason := fields[1], int64(0), rest(line, 2)
	if action == client.Ban || action == client.Mute {
		if len(fields) > 2 {
			if v, err := strconv.ParseInt(fields[2], 10, 64); err == nil {
				if v < 0 {
					out.line("! usage: " + usage)
					return
				}
				seconds, reason = v, rest(line, 3)
			}
		}
	}
	_, err := c.Moderate(ctx, action, user, seconds, reason)
	report(ctx, out, string(action), err)
}

// messageID reads the id of /edit, /delete and /react.
func messageID(fields []string) (int64, bool) {
	if len(fields) < 2 {
		return 0, false
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(fields[1], "#"), 10, 64)
	return id, err == nil && id > 0
}

// rest is line after its first n fields, without the spaces before it.
func rest(line string, n int) string {
	line = strings.TrimLeft(line, " \t")
	for range n {
		i := strings.IndexAny(line, " \t")
		if i < 0 {
			return ""
		}
		line = strings.TrimLeft(line[i:], " \t")
	}
	return line
}

// report prints the client's own errors of a request (a full queue, an
// unconfirmed request, the end). The room's refusals are not: they arrive
// as error events too, and are printed from there.
func report(ctx context.Context, out *printer, what string, err error) {
	var re *client.RoomError
	if err != nil && !errors.As(err, &re) && ctx.Err() == nil {
		out.line("! " + what + ": " + err.Error())
	}
}

func parseTime(s string) time.Time {
	t, _ := time.Parse(protocol.TimeLayout, s)
	return t
}

// printer writes whole lines, from any goroutine.
type printer struct {
	mu    sync.Mutex
	w     io.Writer
	color bool
	self  string
	ids   bool // prefix messages with their id
	// now is the clock of typing's expiry; nil is time.Now.
	now func() time.Time
	// typing holds when each user who is typing last said so.
	typing map[string]time.Time
	// toldUnread is set once the first join's unread count was told.
	toldUnread bool
}

func (p *printer) line(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintln(p.w, s)
}

// event prints a room event for a person.
func (p *printer) event(ev client.Event) {
	switch ev := ev.(type) {
	case *client.Message:
		p.typed(ev.UserID)
		p.message(*ev)
	case *client.Typing:
		p.startedTyping(ev.UserID)
	case *client.ReadState:
		p.unread(ev)
	case *client.Reaction:
		if ev.Added {
			p.line(fmt.Sprintf("* %s reacted %s to #%d", p.name(ev.UserID), ev.Emoji, ev.MessageID))
		} else {
			p.line(fmt.Sprintf("* %s took back %s from #%d", p.name(ev.UserID), ev.Emoji, ev.MessageID))
		}
	case *client.History:
		if ev.Reset {
			p.line("-- the room no longer knew our place; its history starts over")
		}
		if ev.Truncated {
			p.line("-- (older messages not shown)")
		}
		for _, m := range ev.Messages {
			p.message(m)
		}
	case *client.UserJoined:
		if ev.UserID != p.self {
			p.line("* " + p.name(ev.UserID) + " joined")
		}
	case *client.UserLeft:
		p.typed(ev.UserID)
		p.line("* " + p.name(ev.UserID) + " left")
	case *client.Presence:
		if ev.Truncated {
			p.line(fmt.Sprintf("* %d users here", ev.Count))
			return
		}
		names := make([]string, len(ev.Users))
		for i, u := range ev.Users {
			names[i] = p.name(u)
		}
		p.line("* here: " + strings.Join(names, ", "))
	case *client.Error:
		p.line("! " + ev.Err.Error())
	case *client.MessageEdited:
		p.line(fmt.Sprintf("* %s edited #%d: %s", p.name(ev.UserID), ev.MessageID, ev.Text))
	case *client.MessageDeleted:
		p.line(fmt.Sprintf("* #%d was deleted by %s", ev.MessageID, p.name(ev.By)))
	case *client.Moderated:
		p.moderated(ev)
	case *client.RoomSettings:
		if ev.SlowModeSeconds == 0 {
			p.line("* slow mode is off")
			return
		}
		p.line(fmt.Sprintf("* slow mode: one message every %v", time.Duration(ev.SlowModeSeconds)*time.Second))
	}
}

// startedTyping prints "* alice is typing…" when a user starts typing: at
// their first typing signal, or the first after client.TypingTimeout
// without one, or after their message. The signals in between (one every
// two seconds while they type) print nothing.
func (p *printer) startedTyping(user string) {
	if user == p.self {
		return // another connection of ours
	}
	now := time.Now
	if p.now != nil {
		now = p.now
	}
	t := now()
	p.mu.Lock()
	last, typing := p.typing[user]
	if p.typing == nil {
		p.typing = map[string]time.Time{}
	}
	p.typing[user] = t
	p.mu.Unlock()
	if !typing || t.Sub(last) >= client.TypingTimeout {
		p.line("* " + p.name(user) + " is typing…")
	}
}

// typed ends a user's typing: their message came, or they left.
func (p *printer) typed(user string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.typing, user)
}

// unread prints "* 4 unread (read up to #37)" for the first join's
// read_state, when there are any; a rejoin's would count messages the
// resume just showed.
func (p *printer) unread(st *client.ReadState) {
	p.mu.Lock()
	told := p.toldUnread
	p.toldUnread = true
	p.mu.Unlock()
	if told || st.Unread == 0 {
		return
	}
	s := fmt.Sprintf("* %d unread", st.Unread)
	if st.Capped {
		s = fmt.Sprintf("* %d+ unread", st.Unread)
	}
	if st.LastRead > 0 {
		s += fmt.Sprintf(" (read up to #%d)", st.LastRead)
	}
	p.line(s)
}

// moderated prints "* bob was banned by mod until 2026-11-25 19:43: reason".
func (p *printer) moderated(ev *client.Moderated) {
	verb := map[client.Action]string{client.Kick: "kicked", client.Ban: "banned", client.Unban: "unbanned",
		client.Mute: "muted", client.Unmute: "unmuted"}[ev.Kind]
	if verb == "" {
		verb = string(ev.Kind)
	}
	s := fmt.Sprintf("* %s was %s by %s", p.name(ev.UserID), verb, p.name(ev.By))
	switch {
	case !ev.Until.IsZero():
		s += " until " + ev.Until.Local().Format("2006-01-02 15:04")
	case ev.Kind == client.Ban || ev.Kind == client.Mute:
		s += " until lifted"
	}
	if ev.Reason != "" {
		s += ": " + ev.Reason
	}
	p.line(s)
}

// message prints "[15:04] alice: text" in local time, with "(edited)" when
// it was, its reactions ("[👍 3, 🎉 1]") when it has any, and with -ids its
// id first ("#12 [15:04] ...").
func (p *printer) message(m client.Message) {
	s := fmt.Sprintf("[%s] %s: %s", m.Time.Local().Format("15:04"), p.name(m.UserID), m.Text)
	if p.ids {
		s = fmt.Sprintf("#%d %s", m.ID, s)
	}
	if !m.EditedAt.IsZero() {
		s += " (edited)"
	}
	if len(m.Reactions) > 0 {
		rs := make([]string, len(m.Reactions))
		for i, r := range m.Reactions {
			rs[i] = fmt.Sprintf("%s %d", r.Emoji, r.Count)
		}
		s += " [" + strings.Join(rs, ", ") + "]"
	}
	p.line(s)
}

// palette is the users' colors: ANSI foreground codes readable on dark and
// light backgrounds.
var palette = []int{31, 32, 33, 34, 35, 36, 91, 92, 93, 94, 95, 96}

// name is a user's name, in the user's color when colors are on.
func (p *printer) name(user string) string {
	if !p.color {
		return user
	}
	h := fnv.New32a()
	h.Write([]byte(user))
	return fmt.Sprintf("\x1b[%dm%s\x1b[0m", palette[h.Sum32()%uint32(len(palette))], user)
}
