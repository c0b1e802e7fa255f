package main

import (
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"
)

// progress draws a one-line bar on a terminal while a long phase runs. It
// reads its count from an atomic counter the phase already keeps, so the hot
// path pays nothing for it. A nil *progress draws nothing.
type progress struct {
	w     io.Writer
	label string
	total int64
	count func() int64
	stop  chan struct{}
	done  chan struct{}
}

// barWidth is the bar's width in cells.
const barWidth = 30

func startProgress(w io.Writer, label string, total int64, count func() int64) *progress {
	if w == nil || total <= 0 {
		return nil
	}
	p := &progress{w: w, label: label, total: total, count: count, stop: make(chan struct{}), done: make(chan struct{})}
	go p.loop()
	return p
}

func (p *progress) loop() {
	defer close(p.done)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	for {
		select {
		case <-p.stop:
			fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", 100))
			return
		case <-tick.C:
			fmt.Fprintf(p.w, "\r%s", bar(p.label, p.count(), p.total, time.Since(start)))
		}
	}
}

// end erases the bar.
func (p *progress) end() {
	if p == nil {
		return
	}
	close(p.stop)
	<-p.done
}

// bar renders "label [#####.....] n/total 12s".
func bar(label string, n, total int64, elapsed time.Duration) string {
	if total <= 0 {
		total = 1
	}
	n = min(max(n, 0), total)
	filled := int(n * barWidth / total)
	return fmt.Sprintf("%-22s [%s%s] %d/%d %s", label, strings.Repeat("#", filled),
		strings.Repeat(".", barWidth-filled), n, total, elapsed.Round(time.Second))
}

// counter is an atomic count shared with a progress bar.
type counter struct{ atomic.Int64 }

func (c *counter) get() int64 { return c.Load() }
