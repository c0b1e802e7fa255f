package client

import (
	"slices"
	"sync"
	"time"
)

// Backoff exposes the reconnect delay to the tests.
var Backoff = backoff

// FakeClock is a clock for the live signals' throttles (Typing's interval,
// MarkRead's coalescing) that moves only when a test advances it.
type FakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

// UseFakeClock makes c's signals run on a fake clock. Call it before
// Connect.
func UseFakeClock(c *Client) *FakeClock {
	fc := &FakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	c.now = fc.Now
	c.afterFunc = fc.afterFunc
	return fc
}

// Now is the fake time.
func (fc *FakeClock) Now() time.Time {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return fc.now
}

func (fc *FakeClock) afterFunc(d time.Duration, f func()) func() bool {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	t := &fakeTimer{at: fc.now.Add(d), f: f}
	fc.timers = append(fc.timers, t)
	return func() bool {
		fc.mu.Lock()
		defer fc.mu.Unlock()
		was := !t.stopped && slices.Contains(fc.timers, t)
		t.stopped = true
		return was
	}
}

// Timers is how many timers are armed.
func (fc *FakeClock) Timers() int {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	n := 0
	for _, t := range fc.timers {
		if !t.stopped {
			n++
		}
	}
	return n
}

// Advance moves the clock on by d and runs the timers that came due, in the
// test's goroutine, in order.
func (fc *FakeClock) Advance(d time.Duration) {
	fc.mu.Lock()
	fc.now = fc.now.Add(d)
	var due []*fakeTimer
	fc.timers = slices.DeleteFunc(fc.timers, func(t *fakeTimer) bool {
		if t.stopped {
			return true
		}
		if !t.at.After(fc.now) {
			due = append(due, t)
			return true
		}
		return false
	})
	fc.mu.Unlock()
	slices.SortStableFunc(due, func(a, b *fakeTimer) int { return a.at.Compare(b.at) })
	for _, t := range due {
		t.f()
	}
}
