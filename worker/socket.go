//go:build js && wasm

package main

import (
	"runtime"
	"strings"
	"syscall/js"
	"time"
	"unsafe"

	"github.com/chatroom/gochat/room"
)

// socket adapts a runtime WebSocket to room.Socket and room.Fast. It has
// three modes, by where its WebSocket comes from:
//   - direct: ws is set (an accepted socket);
//   - pending: the event's socket, fetched from the event on first use. On
//     the hot path the room finds the session by tag and sends through the
//     socket it already holds, so the event's own is never fetched;
//   - listed: entry index of one rebuild's list (host.Sockets), fetched from
//     it only when used one by one: a wake touches few of them.
//
// tag, when hasTag, is the socket's tag property as the glue read it for
// this event (0 when unset).
type socket struct {
	st      *roomState
	ws      js.Value
	tag     float64
	hasTag  bool
	pending bool
	list    *socketList
	index   int
	// predecoded is the attachment as Sockets read it for a rebuild (nil
	// for none), served once (room.Fast.Predecoded): later reads ask the runtime.
	predecoded    *room.Attachment
	hasPredecoded bool
	// closing, when listed, is the socket's state as Sockets read it.
	closing bool
}

// socketList is the object's sockets as one JS array, from one rebuild.
type socketList struct{ all js.Value }

var (
	_ room.Socket = (*socket)(nil)
	_ room.Fast   = (*socket)(nil)
)

func (s *socket) Predecoded() (*room.Attachment, bool) {
	att, ok := s.predecoded, s.hasPredecoded
	s.predecoded, s.hasPredecoded = nil, false
	return att, ok
}

func (s *socket) value() js.Value {
	switch {
	case s.pending:
		s.ws, s.pending = eventValue(eventSocket), false
	case s.list != nil:
		s.ws, s.list = s.list.all.Index(s.index), nil
	}
	return s.ws
}

// Send and SetAttachment hand their text to the glue as bytes in Go's memory
// (goText): a JS string made by Go would be a JS value Go holds, with a
// finalizer to register and later run for each one.
func (s *socket) Send(frame []byte) error {
	return s.callText(jsSendText, frame)
}

// callText calls fn(ws, ptr, len) in the glue with the socket and text.
func (s *socket) callText(fn js.Value, text []byte) error {
	ptr, n := goText(text)
	err := try(func() { fn.Invoke(s.value(), ptr, n) })
	runtime.KeepAlive(text)
	return err
}

func (s *socket) Close(code int, reason string) error {
	text := []byte(reason)
	ptr, n := goText(text)
	err := try(func() { jsCloseText.Invoke(s.value(), code, ptr, n) })
	runtime.KeepAlive(text)
	return err
}

func (s *socket) Attachment() (data []byte, err error) {
	s.predecoded, s.hasPredecoded = nil, false
	err = try(func() {
		if v := s.value().Call("deserializeAttachment"); v.Type() == js.TypeString {
			data = []byte(v.String())
		}
	})
	return data, err
}

func (s *socket) SetAttachment(data []byte) error {
	s.predecoded, s.hasPredecoded = nil, false
	return s.callText(jsAttachText, data)
}

// tagProperty is an expando property on the runtime's WebSocket object
// (glue.mjs reads it too). It lives as long as that JS object, so it is gone
// after a wake.
const tagProperty = "gochatTag"

func (s *socket) Tag() uint64 {
	tag := s.tag
	if !s.hasTag {
		if v := s.value().Get(tagProperty); v.Type() == js.TypeNumber {
			tag = v.Float()
		}
	}
	if tag > 0 {
		return uint64(tag)
	}
	return 0
}

func (s *socket) SetTag(tag uint64) { s.value().Set(tagProperty, float64(tag)) }

// host adapts one event's view of the runtime to room.Host.
type host struct {
	st  *roomState
	now time.Time // read once per event: time only moves across I/O anyway
}

var _ room.Host = (*host)(nil)

func (h *host) Sockets() []room.Socket {
	pair := jsSockets.Invoke(h.st.ctx)
	list := &socketList{all: pair.Index(0)}
	// The states, a letter a socket, then the attachments' JSON array.
	text := pair.Index(1).String()
	n := strings.IndexByte(text, '[')
	if n < 0 {
		n = len(text) // no array: each socket then reads its own attachment
	}
	states := text[:n]
	atts, err := room.DecodeAttachments(text[n:])
	if err != nil {
		atts = nil // each socket then reads its own
	}
	out := make([]room.Socket, n)
	backing := make([]socket, n)
	for i := range out {
		s := &backing[i]
		s.st, s.list, s.index = h.st, list, i
		s.closing = states[i] == 'c'
		if i < len(atts) {
			s.predecoded, s.hasPredecoded = atts[i], true
		}
		out[i] = s
	}
	return out
}

func (h *host) Broadcast(frame []byte, to []room.Socket, skip int) []room.Socket {
	if len(to) == 0 {
		return nil
	}
	st := h.st
	if st.fanoutKey != &to[0] || st.fanoutLen != len(to) {
		// A new membership: the object keeps this list until the next one,
		// and an unchanged membership costs one Wasm import per broadcast.
		jsSetFanout.Invoke(jsList(to))
		st.fanoutKey, st.fanoutLen = &to[0], len(to)
	}
	ptr, n := goText(frame)
	failed := fanout(int32(ptr), int32(n), int32(skip))
	runtime.KeepAlive(frame)
	if failed == 0 {
		return nil
	}
	idx := jsFailedSends.Invoke()
	out := make([]room.Socket, idx.Length())
	for i := range out {
		out[i] = to[idx.Index(i).Int()]
	}
	return out
}

// fanout sends the text at ptr/n in Go's memory to the list the current
// object holds (setFanout), but its entry at skip (-1: none), and answers how
// many sends threw.
//
//go:wasmimport gochat fanout
func fanout(ptr, n, skip int32) int32

// jsList makes the JS array of sockets. Those still in their rebuild's list
// (a wake's members, but for the few that sent a frame since) are picked
// from it in one call (select); the others are set one by one.
func jsList(to []room.Socket) js.Value {
	var list *socketList
	idx := make([]int32, len(to))
	for i, s := range to {
		s := s.(*socket)
		idx[i] = -1
		if s.list != nil && (list == nil || s.list == list) {
			list, idx[i] = s.list, int32(s.index)
		}
	}
	all := jsNoSockets // none from a rebuild: every socket is set below
	if list != nil {
		all = list.all
	}
	arr := jsSelect.Invoke(all, int(uintptr(unsafe.Pointer(unsafe.SliceData(idx)))), len(idx))
	runtime.KeepAlive(idx)
	for i, s := range to {
		if idx[i] < 0 {
			arr.SetIndex(i, s.(*socket).value())
		}
	}
	return arr
}

func (h *host) Now() time.Time { return h.now }

// Open is the state Sockets read for a listed socket (a rebuild needs it
// for every socket: one call read them all), and the runtime's readyState
// otherwise (rare: a frame from a socket the room does not know).
func (s *socket) Open() bool {
	if s.list != nil {
		return !s.closing
	}
	return s.value().Get("readyState").Int() == 1
}

func (s *socket) AutoResponseAt() time.Time {
	v := s.st.ctx.Call("getWebSocketAutoResponseTimestamp", s.value())
	if v.Type() != js.TypeObject {
		return time.Time{}
	}
	return time.UnixMilli(int64(v.Call("getTime").Float()))
}

// Store is the object's history; a pointer, so that it costs no allocation
// per message.
func (h *host) Store() room.Store { return &h.st.history }

func (h *host) Alarm() room.Alarm { return (*alarm)(h.st) }

// alarm is the object's alarm (ctx.storage's).
type alarm roomState

func (a *alarm) Set(at time.Time) {
	a.ctx.Get("storage").Call("setAlarm", at.UnixMilli())
}

func (a *alarm) Ensure(at time.Time) {
	jsEnsureAlarm.Invoke(a.ctx, at.UnixMilli())
}

func (a *alarm) Delete() {
	a.ctx.Get("storage").Call("deleteAlarm")
}
