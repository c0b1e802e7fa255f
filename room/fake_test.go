package room_test

import (
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chatroom/gochat/room/protocol"

	"github.com/chatroom/gochat/room"
)

// fakeSocket records what the room did to one socket, like
// httptest.ResponseRecorder records a response.
type fakeSocket struct {
	name       string
	state      int // wsOpen, wsClosing, wsClosed
	sent       []string
	closeCode  int
	closeMsg   string
	closes     int
	attachment []byte
	failSend   bool
	autoPong   time.Time // when the runtime last answered an exact ping
	tag        uint64
}

func (s *fakeSocket) Tag() uint64       { return s.tag }
func (s *fakeSocket) SetTag(tag uint64) { s.tag = tag }

const (
	wsOpen = iota + 1
	wsClosing
	wsClosed
)

var (
	_ room.Socket = (*fakeSocket)(nil)
	_ room.Fast   = (*fakeSocket)(nil)
)

// Predecoded hands nothing over: the fake's attachments are read one by one.
func (s *fakeSocket) Predecoded() (*room.Attachment, bool) { return nil, false }

var errClosed = errors.New("socket is closed")

func (s *fakeSocket) Send(frame []byte) error {
	if s.state != wsOpen || s.failSend {
		return errClosed
	}
	s.sent = append(s.sent, string(frame))
	return nil
}

func (s *fakeSocket) Close(code int, reason string) error {
	if code == 1005 || code == 1006 || code < 1000 || code > 4999 {
		// workerd throws on reserved codes; fail the test loudly instead.
		panic("close with reserved code")
	}
	s.closes++
	s.closeCode, s.closeMsg = code, reason
	if s.state == wsOpen {
		s.state = wsClosing
	} else {
		s.state = wsClosed
	}
	return nil
}

func (s *fakeSocket) Attachment() ([]byte, error) { return s.attachment, nil }

func (s *fakeSocket) SetAttachment(data []byte) error {
	s.attachment = append([]byte(nil), data...)
	return nil
}

// take returns the frames sent since the last take.
func (s *fakeSocket) take() []string {
	out := s.sent
	s.sent = nil
	return out
}

// fakeHost is the runtime: the accepted sockets, a clock, the fan-out and
// the storage.
type fakeHost struct {
	sockets    []*fakeSocket
	now        time.Time
	broadcasts int
	store      fakeStore
	alarm      time.Time // zero when no alarm is set
	alarmSets  int
}

// fakeAlarm is the host's alarm, recorded on the host.
type fakeAlarm fakeHost

var _ room.Alarm = (*fakeAlarm)(nil)

func (h *fakeHost) Alarm() room.Alarm { return (*fakeAlarm)(h) }

func (a *fakeAlarm) Set(at time.Time) { a.alarm = at; a.alarmSets++ }
func (a *fakeAlarm) Delete()          { a.alarm = time.Time{} }

func (a *fakeAlarm) Ensure(at time.Time) {
	if a.alarm.IsZero() || a.alarm.After(at) {
		a.Set(at)
	}
}

func (s *fakeSocket) AutoResponseAt() time.Time { return s.autoPong }
func (s *fakeSocket) Open() bool                { return s.state == wsOpen }

func (h *fakeHost) Store() room.Store { return &h.store }

// fakeStore is the room's SQLite tables in memory: messages by id, and the
// changes to them by position. Positions are one sequence, as in the SQL
// store: a new message or change takes the one after the highest stored.
type fakeStore struct {
	rows    []protocol.StoredMessage
	changes []fakeChange
	fail    bool
	mod     room.ModerationState
	actions []room.Action // the audit log
	keys    map[string]fakeKey
	reads   map[string]room.ReadMarker
	reacts  []fakeReaction // in the order they were made
}

type fakeReaction struct {
	id          int64
	emoji, user string
}

type fakeKey struct {
	answer []byte
	at     int64
}

type fakeChange struct {
	pos, messageID int64
	kind           string
	frame          string
}

var _ room.Store = (*fakeStore)(nil)

var errStorage = errors.New("storage down")

func (s *fakeStore) Append(m protocol.StoredMessage, frame []byte, keep int) error {
	if s.fail {
		return errStorage
	}
	if last, _ := s.LastID(); m.ID != last+1 {
		return errors.New("id is not the next one") // a primary key conflict
	}
	var fields protocol.StoredMessage
	if err := json.Unmarshal(frame, &fields); err != nil || !reflect.DeepEqual(fields, m) {
		return errors.New("the frame does not carry the message")
	}
	s.rows = append(s.rows, m)
	// The prune trigger: everything more than keep positions old.
	s.rows = slices.DeleteFunc(s.rows, func(r protocol.StoredMessage) bool { return r.ID <= m.ID-int64(keep) })
	s.changes = slices.DeleteFunc(s.changes, func(c fakeChange) bool { return c.pos <= m.ID-int64(keep) })
	return nil
}

// After stops, as the SQL store does, once the JSON of the newer rows
// passed maxBytes, keeping the one that crossed it.
func (s *fakeStore) After(since, before int64, limit, maxBytes int) ([]protocol.StoredMessage, bool, error) {
	if s.fail {
		return nil, false, errStorage
	}
	var out []protocol.StoredMessage
	for _, m := range s.rows {
		if m.ID > since && (before == 0 || m.ID < before) {
			m.Reactions = s.summaries(m.ID)
			out = append(out, m)
		}
	}
	more := len(out) > limit
	if more {
		out = out[len(out)-limit:]
	}
	total := 0
	for i := len(out) - 1; i >= 0; i-- {
		if total > maxBytes {
			return out[i+1:], more, nil
		}
		b, _ := json.Marshal(out[i])
		total += len(b)
	}
	return out, more, nil
}

func (s *fakeStore) LastID() (int64, error) {
	if s.fail {
		return 0, errStorage
	}
	var last int64
	if len(s.rows) > 0 {
		last = s.rows[len(s.rows)-1].ID
	}
	if len(s.changes) > 0 {
		last = max(last, s.changes[len(s.changes)-1].pos)
	}
	return last, nil
}

func (s *fakeStore) find(id int64) int {
	return slices.IndexFunc(s.rows, func(m protocol.StoredMessage) bool { return m.ID == id })
}

func (s *fakeStore) Author(id int64) (string, bool, error) {
	if s.fail {
		return "", false, errStorage
	}
	if i := s.find(id); i >= 0 {
		return s.rows[i].UserID, true, nil
	}
	return "", false, nil
}

func (s *fakeStore) change(pos, id int64, kind string, frame []byte) error {
	if last, _ := s.LastID(); pos != last+1 {
		return errors.New("position is not the next one")
	}
	s.changes = append(s.changes, fakeChange{pos: pos, messageID: id, kind: kind, frame: string(frame)})
	return nil
}

func (s *fakeStore) Edit(id int64, text, editedAt string, pos int64, frame []byte) error {
	i := s.find(id)
	if s.fail || i < 0 {
		return errStorage
	}
	if err := s.change(pos, id, "edit", frame); err != nil {
		return err
	}
	s.rows[i].Text, s.rows[i].EditedAt = text, editedAt
	return nil
}

func (s *fakeStore) Delete(id, pos int64, frame []byte) error {
	i := s.find(id)
	if s.fail || i < 0 {
		return errStorage
	}
	if err := s.change(pos, id, "delete", frame); err != nil {
		return err
	}
	s.rows = slices.Delete(s.rows, i, i+1)
	s.reacts = slices.DeleteFunc(s.reacts, func(r fakeReaction) bool { return r.id == id })
	for i, c := range s.changes {
		if c.messageID == id && (c.kind == "edit" || c.kind == "reaction") {
			s.changes[i].kind, s.changes[i].frame = "redacted", "{}"
		}
	}
	return nil
}

func (s *fakeStore) Changes(since int64, limit, maxBytes int) ([]protocol.Raw, bool, error) {
	if s.fail {
		return nil, false, errStorage
	}
	var out []protocol.Raw
	for _, c := range s.changes {
		if c.pos > since && c.messageID <= since && c.kind != "redacted" {
			if len(out) == limit {
				return out, true, nil
			}
			out = append(out, protocol.Raw(c.frame))
		}
	}
	return out, false, nil
}

func (s *fakeStore) Moderation() (room.ModerationState, error) {
	if s.fail {
		return room.ModerationState{}, errStorage
	}
	st := room.ModerationState{Bans: maps.Clone(s.mod.Bans), Mutes: maps.Clone(s.mod.Mutes),
		Services: maps.Clone(s.mod.Services), SlowModeSeconds: s.mod.SlowModeSeconds}
	return st, nil
}

func (s *fakeStore) Moderate(a room.Action) error {
	if s.fail {
		return errStorage
	}
	if a.Pos != 0 {
		if err := s.change(a.Pos, 0, a.Kind, a.Frame); err != nil {
			return err
		}
	}
	if s.mod.Bans == nil {
		s.mod.Bans, s.mod.Mutes = map[string]room.Restriction{}, map[string]room.Restriction{}
	}
	switch a.Kind {
	case protocol.TypeBan:
		s.mod.Bans[a.UserID] = room.Restriction{Until: a.Until}
	case protocol.TypeUnban:
		delete(s.mod.Bans, a.UserID)
	case protocol.TypeMute:
		s.mod.Mutes[a.UserID] = room.Restriction{Until: a.Until}
	case protocol.TypeUnmute:
		delete(s.mod.Mutes, a.UserID)
	case protocol.TypeSlowMode:
		s.mod.SlowModeSeconds = a.Seconds
	}
	s.actions = append(s.actions, a)
	return nil
}

func (s *fakeStore) BanList(nowMs int64) (protocol.BanEntries, error) {
	var out protocol.BanEntries
	for user, res := range s.mod.Bans {
		if res.Until == 0 || nowMs < res.Until {
			e := protocol.BanEntry{UserID: user, Until: &protocol.Until{}}
			if res.Until != 0 {
				e.Until.At = protocol.Timestamp(time.UnixMilli(res.Until))
			}
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b protocol.BanEntry) int { return strings.Compare(a.UserID, b.UserID) })
	return out, nil
}

func (s *fakeStore) Audit(before int64, limit int) (protocol.AuditEntries, bool, error) {
	var out protocol.AuditEntries
	for i := len(s.actions) - 1; i >= 0; i-- {
		id := int64(i + 1)
		if before != 0 && id >= before {
			continue
		}
		if len(out) == limit {
			return out, true, nil
		}
		a := s.actions[i]
		out = append(out, protocol.AuditEntry{ID: id, Action: a.Kind, UserID: a.UserID, By: a.By, Reason: a.Reason, Seconds: a.Seconds, MessageID: a.MessageID, Timestamp: a.At})
	}
	return out, false, nil
}

func (s *fakeStore) Idempotent(key string, nowMs int64) ([]byte, bool, error) {
	k, ok := s.keys[key]
	return k.answer, ok && nowMs-k.at < room.IdempotencyWindow.Milliseconds(), nil
}

func (s *fakeStore) Remember(key string, answer []byte, nowMs int64) error {
	if s.keys == nil {
		s.keys = map[string]fakeKey{}
	}
	s.keys[key] = fakeKey{answer: answer, at: nowMs}
	return nil
}

func (s *fakeStore) ReadMarker(user string) (room.ReadMarker, error) {
	if s.fail {
		return room.ReadMarker{}, errStorage
	}
	return s.reads[user], nil
}

func (s *fakeStore) SetReadMarker(user string, m room.ReadMarker) error {
	if s.fail {
		return errStorage
	}
	if s.reads == nil {
		s.reads = map[string]room.ReadMarker{}
	}
	s.reads[user] = m
	return nil
}

func (s *fakeStore) PendingReads() (map[string]room.ReadMarker, error) {
	if s.fail {
		return nil, errStorage
	}
	out := map[string]room.ReadMarker{}
	for u, m := range s.reads {
		if m.Last > m.Shown {
			out[u] = m
		}
	}
	return out, nil
}

func (s *fakeStore) Reads(users []string) (map[string]int64, error) {
	if s.fail {
		return nil, errStorage
	}
	out := map[string]int64{}
	for _, u := range users {
		if m, ok := s.reads[u]; ok {
			out[u] = m.Last
		}
	}
	return out, nil
}

func (s *fakeStore) Unread(after int64, limit int) (int64, error) {
	if s.fail {
		return 0, errStorage
	}
	var n int64
	for _, m := range s.rows {
		if m.ID > after && n < int64(limit) {
			n++
		}
	}
	return n, nil
}

func (s *fakeStore) ReactionState(id int64, emoji, user string) (bool, bool, int, error) {
	if s.fail {
		return false, false, 0, errStorage
	}
	had, distinct := false, map[string]bool{}
	for _, r := range s.reacts {
		if r.id == id {
			distinct[r.emoji] = true
			had = had || (r.emoji == emoji && r.user == user)
		}
	}
	return had, distinct[emoji], len(distinct), nil
}

func (s *fakeStore) React(id int64, emoji, user string, added bool, pos int64, frame []byte) error {
	if s.fail {
		return errStorage
	}
	if err := s.change(pos, id, "reaction", frame); err != nil {
		return err
	}
	if added {
		s.reacts = append(s.reacts, fakeReaction{id, emoji, user})
	} else {
		s.reacts = slices.DeleteFunc(s.reacts, func(r fakeReaction) bool { return r.id == id && r.emoji == emoji && r.user == user })
	}
	return nil
}

// summaries are message id's reactions as history carries them: by the
// first reaction of each emoji, with its first ReactionUsers reactors.
func (s *fakeStore) summaries(id int64) []protocol.ReactionSummary {
	var out []protocol.ReactionSummary
	for _, r := range s.reacts {
		if r.id != id {
			continue
		}
		i := slices.IndexFunc(out, func(x protocol.ReactionSummary) bool { return x.Emoji == r.emoji })
		if i < 0 {
			out = append(out, protocol.ReactionSummary{Emoji: r.emoji})
			i = len(out) - 1
		}
		out[i].Count++
		if len(out[i].Users) < protocol.ReactionUsers {
			out[i].Users = append(out[i].Users, r.user)
		}
	}
	return out
}

func (s *fakeStore) RememberService(user string) error {
	if s.fail {
		return errStorage
	}
	if s.mod.Services == nil {
		s.mod.Services = map[string]bool{}
	}
	s.mod.Services[user] = true
	return nil
}

// LastMessageAt goes by the stored messages' timestamps, as the SQL store.
func (s *fakeStore) LastMessageAt(user string) (time.Time, error) {
	var last time.Time
	for _, m := range s.rows {
		if m.UserID == user {
			t, _ := time.Parse(protocol.TimeLayout, m.Timestamp)
			last = t
		}
	}
	return last, nil
}

func (s *fakeStore) Accounted(from, to int64) (int64, error) {
	if s.fail {
		return 0, errStorage
	}
	var n int64
	for _, c := range s.changes {
		if c.pos > from && c.pos < to {
			n++
		}
		if c.kind == "delete" && c.messageID > from && c.messageID < to {
			n++
		}
	}
	return n, nil
}

var _ room.Host = (*fakeHost)(nil)

func (h *fakeHost) Sockets() []room.Socket {
	var out []room.Socket
	for _, s := range h.sockets {
		if s.state != wsClosed {
			out = append(out, s)
		}
	}
	return out
}

func (h *fakeHost) Broadcast(frame []byte, to []room.Socket, skip int) []room.Socket {
	h.broadcasts++
	var failed []room.Socket
	for i, s := range to {
		if i == skip {
			continue
		}
		if s.Send(frame) != nil {
			failed = append(failed, s)
		}
	}
	return failed
}

func (h *fakeHost) Now() time.Time { return h.now }

// env drives one room through events. With evict set, the room is replaced
// by a fresh one before every event, as if the runtime had evicted the object
// and run its constructor again: memory is only a cache.
type env struct {
	t     *testing.T
	cfg   room.Config
	host  *fakeHost
	room  *room.Room
	evict bool
	n     int
}

var testNow = time.Date(2025, 10, 26, 5, 20, 0, 123_000_000, time.UTC)

const ts = "2025-10-26T05:20:00.123Z"

func newEnv(t *testing.T, cfg room.Config, evict bool) *env {
	return &env{t: t, cfg: cfg, host: &fakeHost{now: testNow}, room: room.New(cfg), evict: evict}
}

func (e *env) before() {
	if e.evict {
		e.room = room.New(e.cfg)
	}
}

func (e *env) connect() *fakeSocket { e.t.Helper(); return e.connectAs("") }

// connectAs accepts a socket bound to a verified identity ("" for open mode).
func (e *env) connectAs(bound string) *fakeSocket {
	e.t.Helper()
	e.before()
	e.n++
	s := &fakeSocket{name: string(rune('a' + e.n - 1)), state: wsOpen}
	e.host.sockets = append(e.host.sockets, s)
	if err := e.room.Accept(e.host, s, room.Conn{User: bound}); err != nil {
		e.t.Fatalf("accept: %v", err)
	}
	return s
}

func (e *env) send(s *fakeSocket, frame string) {
	e.before()
	e.room.Message(e.host, s, room.Inbound{Text: []byte(frame)})
}

func (e *env) sendBinary(s *fakeSocket, data []byte) {
	e.before()
	e.room.Message(e.host, s, room.Inbound{Binary: true})
}

// peerClose is the client closing (or its TCP connection dropping: 1006).
func (e *env) peerClose(s *fakeSocket, code int, reason string) {
	e.before()
	s.state = wsClosing
	e.room.Close(e.host, s, code, reason)
}

func (e *env) alarm() {
	e.before()
	e.room.Alarm(e.host)
}

func (e *env) socketError(s *fakeSocket) {
	e.before()
	s.state = wsClosing
	e.room.Error(e.host, s)
}

// expect checks the frames s received since the last check, exactly.
func (e *env) expect(s *fakeSocket, frames ...string) {
	e.t.Helper()
	got := s.take()
	if strings.Join(got, "\n") != strings.Join(frames, "\n") {
		e.t.Errorf("socket %s received:\n  %s\nwant:\n  %s", s.name, strings.Join(got, "\n  "), strings.Join(frames, "\n  "))
	}
}

// both runs a scenario with a warm room and with eviction before every event.
func both(t *testing.T, cfg room.Config, scenario func(e *env)) {
	t.Helper()
	for _, evict := range []bool{false, true} {
		name := "warm"
		if evict {
			name = "evicted-between-events"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			scenario(newEnv(t, cfg, evict))
		})
	}
}

func joined(u string) string {
	return `{"type":"user_joined","userId":"` + u + `","timestamp":"` + ts + `"}`
}

func left(u string) string {
	return `{"type":"user_left","userId":"` + u + `","timestamp":"` + ts + `"}`
}

func msg(id int, u, text string) string {
	return `{"type":"message","id":` + strconv.Itoa(id) + `,"userId":"` + u + `","text":"` + text + `","timestamp":"` + ts + `"}`
}

// stored is one message as history carries it.
func stored(id int, u, text string) string {
	return `{"id":` + strconv.Itoa(id) + `,"userId":"` + u + `","text":"` + text + `","timestamp":"` + ts + `"}`
}

func presence(users ...string) string {
	if len(users) == 0 {
		return `{"type":"presence","users":[]}`
	}
	return `{"type":"presence","users":["` + strings.Join(users, `","`) + `"]}`
}

func history(msgs ...string) string {
	return `{"type":"history","messages":[` + strings.Join(msgs, ",") + `]}`
}

// welcome is what a joining socket itself receives, in order, for a user
// who has read nothing in a room that holds just msgs.
func welcome(u string, users []string, msgs ...string) []string {
	return []string{joined(u), presence(users...), history(msgs...), readState(0, len(msgs))}
}

// readState is the read_state frame after history.
func readState(lastRead, unread int) string {
	return `{"type":"read_state","lastRead":` + strconv.Itoa(lastRead) + `,"unread":` + strconv.Itoa(unread) + `}`
}

func us(users ...string) []string { return users }

// expectError checks that s received exactly one error frame with code.
func (e *env) expectError(s *fakeSocket, code string) {
	e.t.Helper()
	got := s.take()
	if len(got) != 1 || !strings.HasPrefix(got[0], `{"type":"error","code":"`+code+`","message":"`) {
		e.t.Errorf("socket %s received %q, want one error frame %q", s.name, got, code)
	}
	if s.state != wsOpen {
		e.t.Errorf("socket %s was closed after error %s; it must stay open", s.name, code)
	}
}
