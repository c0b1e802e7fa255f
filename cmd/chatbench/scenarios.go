package main

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// joinAll opens n connections, at most conc at a time, and joins each as
// user u<i>. A slot is held from the handshake until the client's own
// user_joined arrives, so conc is the number of joins in flight. It returns
// every client (nil where the dial failed), when each one started, and the
// first error; the caller closes the clients.
func (r *runner) joinAll(ctx context.Context, label string, n, conc int, urlFor func(i int) string, setup func(c *client)) ([]*client, []time.Time, error) {
	cs := make([]*client, n)
	starts := make([]time.Time, n)
	var joined counter
	bar := r.bar(label, int64(n), joined.get)
	defer bar.end()
	sem := make(chan struct{}, max(conc, 1))
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	fail := func(err error) { once.Do(func() { firstErr = err }) }
	for i := 0; i < n; i++ {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			fail(ctx.Err())
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			starts[i] = time.Now()
			c, err := dial(ctx, urlFor(i), i, fmt.Sprintf("u%d", i))
			if err != nil {
				fail(fmt.Errorf("dial %d: %w", i, err))
				return
			}
			if setup != nil {
				setup(c)
			}
			cs[i] = c
			if err := c.join(ctx); err != nil {
				fail(fmt.Errorf("join %d: %w", i, err))
				return
			}
			select {
			case <-c.joined:
				joined.Add(1)
			case <-c.done:
				fail(fmt.Errorf("client %d: connection ended before its user_joined: %v", i, c.readErr))
			case <-ctx.Done():
				fail(fmt.Errorf("client %d: no user_joined: %w", i, ctx.Err()))
			}
		}(i)
	}
	wg.Wait()
	return cs, starts, firstErr
}

// bar starts a progress bar when progress is wanted.
func (r *runner) bar(label string, total int64, count func() int64) *progress {
	if r.cfg.Progress == nil {
		return nil
	}
	return startProgress(r.cfg.Progress, label, total, count)
}

// waitCtx bounds a wait for deliveries by the configured timeout.
func (r *runner) waitCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, r.cfg.Timeout)
}

func joinedCount(cs []*client) int64 {
	var n int64
	for _, c := range cs {
		if c != nil && c.hasJoined() {
			n++
		}
	}
	return n
}

// track points every client at t; frames of other runs are ignored.
func track(cs []*client, t *tracker) {
	for _, c := range cs {
		if c != nil {
			c.track.Store(t)
		}
	}
}

// finish records what every scenario reports about its clients.
func finish(res *Result, cs []*client) {
	n, sample := errorFrames(cs)
	res.ErrorFrames = n
	if n > 0 {
		res.note("%d error frames, e.g. %s", n, sample)
	}
	res.settle()
}

// latencies adds p50/p95/p99 of ds, in ms, under the given prefix.
func latencies(res *Result, prefix string, ds []time.Duration, ps ...float64) {
	for _, p := range ps {
		v, ok := percentile(ds, p)
		res.add(metric(fmt.Sprintf("%s p%g", prefix, p), "ms", "lower", ms(v), ok))
	}
}

// fanoutPercentiles are the latency percentiles fanout reports.
var fanoutPercentiles = []float64{50, 95, 99}

// fanout: N clients join one room and each sends M messages as fast as the
// connection takes them. Every member receives every message, its own too.
// It runs several rounds, each in a new room, after FanoutWarmup unmeasured
// ones. Every figure is measured once per round (the latency percentiles
// over that round's deliveries) and reported as the median round, with the
// least and the greatest.
// fanout runs the fanout rounds of every target interleaved (round 1 of
// each target, then round 2, ...), so that a slow moment of the shared
// machine, or the runtime still tiering up, hits all targets alike.
func (r *runner) fanout(ctx context.Context, targets []Target) []Result {
	return r.roundsOf(ctx, "fanout", "f", targets, 0)
}

// typing: fanout's load, sizes and rounds, while every member also says it
// is typing, as a client does at its keystrokes while it writes: before each
// of its messages a member sends TypingPerMessage typing frames, the last
// right before the message. A room forwards a user's first typing frame
// after their message (which ends their throttle) and drops the rest within
// its throttle interval (2 s), so most frames in are typing and most are
// dropped, while about one typing frame goes out per message, to every
// member but its sender. It asks whether a message's fanout gets slower
// beside them. The message figures are fanout's, of messages only (worker
// CPU per message in counts the typing frames' work too); typing deliveries
// is the typing frames received per second over the same span. Each round
// also checks the typing rule (see checkTyping).
//
// The typing frames go with the messages, a fixed number each, rather than
// on a timer: at fanout's pace a member's messages are 40 to 100 ms apart,
// so a timer that outnumbers them several to one ticks every 20 to 50 ms,
// and it makes a round that the load slows down send more, which slows it
// more (measured with a 50 ms timer: 9 to 13 typing frames a message, four
// times fanout's CPU a message, seconds of latency).
func (r *runner) typing(ctx context.Context, targets []Target) []Result {
	return r.roundsOf(ctx, "typing", "t", targets, max(r.cfg.Sizes.TypingPerMessage, 1))
}

// typingThrottle is the rooms' TYPING_INTERVAL_SECONDS (the default, which
// bench/wrangler.toml does not change): the typing check allows a user one forwarded typing
// frame per throttle interval, besides one after each of their messages.
const typingThrottle = 2 * time.Second

// roundsOf runs the rounds of fanout, or with typing > 0 typing frames per
// message of typing, for every target interleaved; tag starts its run tags.
func (r *runner) roundsOf(ctx context.Context, scenario, tag string, targets []Target, typing int) []Result {
	n, m, rounds := r.cfg.Sizes.FanoutClients, r.cfg.Sizes.FanoutMessages, max(r.cfg.Sizes.FanoutRounds, 1)
	warmup := r.cfg.Sizes.FanoutWarmup
	type acc struct {
		res                 Result
		inbound, deliveries []float64
		lat                 [][]float64 // per percentile, one a complete round, in ms
		cpu                 []float64   // µs per message in, one a round
		typing              []float64   // typing deliveries/s, one a round
		check               typingCheck
		cs                  []*client
	}
	accs := make([]*acc, len(targets))
	for i, t := range targets {
		params := map[string]int{"clients": n, "messages": m, "rounds": rounds, "warmup": warmup}
		if typing > 0 {
			params["typingPerMessage"] = typing
		}
		accs[i] = &acc{res: Result{Scenario: scenario, Target: t.Name, Path: t.Path, Params: params,
			Expected: int64(n) * int64(n) * int64(m) * int64(rounds)}, lat: make([][]float64, len(fanoutPercentiles))}
	}
	for w := 0; w < warmup; w++ {
		for i, t := range targets {
			fr := r.fanoutRound(ctx, t, r.room(scenario+"-warmup", t, w), fmt.Sprintf("%s-%sw%d", r.runID, tag, w), n, m, typing)
			closeAll(fr.clients)
			if fr.err != nil {
				accs[i].res.note("warm-up round %d: %v", w+1, fr.err)
			}
		}
	}
	for round := 0; round < rounds; round++ {
		for i, t := range targets {
			a := accs[i]
			if a.res.Err != "" {
				continue
			}
			fr := r.fanoutRound(ctx, t, r.room(scenario, t, round), fmt.Sprintf("%s-%s%d", r.runID, tag, round), n, m, typing)
			closeAll(fr.clients) // the next round (or target) gets the CPU to itself
			// Closed, they still hold the error frames they received.
			a.cs = append(a.cs, fr.clients...)
			a.res.Delivered += int64(len(fr.lat))
			a.res.Duplicates += fr.dups
			if fr.err != nil {
				a.res.Err = fr.err.Error()
				continue
			}
			complete := len(fr.lat) == n*n*m
			if v, ok := rate(int64(n*m), fr.dur); ok && complete {
				a.inbound = append(a.inbound, v)
			}
			if v, ok := rate(int64(len(fr.lat)), fr.dur); ok {
				a.deliveries = append(a.deliveries, v)
			}
			if complete {
				// A round that lost deliveries would lose its slowest.
				for j, p := range fanoutPercentiles {
					if v, ok := percentile(fr.lat, p); ok {
						a.lat[j] = append(a.lat[j], ms(v))
					}
				}
			}
			if fr.cpuOK {
				// CPU of the Worker's workerd per message in, all its
				// deliveries included: what the room costs, apart from the
				// client and the dev proxy that share this machine and set
				// the rates above. It is read in clock ticks (10 ms), 10 µs
				// a message in a round of 1,000.
				a.cpu = append(a.cpu, float64(fr.cpu)/float64(time.Microsecond)/float64(n*m))
			}
			if typing > 0 {
				if v, ok := rate(fr.typingOut, fr.dur); ok {
					a.typing = append(a.typing, v)
				}
				a.check.add(fr.check)
			}
		}
	}
	out := make([]Result, len(targets))
	for i, a := range accs {
		res := a.res
		res.add(roundsMetric("inbound", "msgs/s", "higher", a.inbound, len(a.inbound) == rounds))
		res.add(roundsMetric("deliveries", "/s", "higher", a.deliveries, true))
		for j, p := range fanoutPercentiles {
			res.add(roundsMetric(fmt.Sprintf("latency p%g", p), "ms", "lower", a.lat[j], true))
		}
		if len(a.cpu) > 0 {
			res.add(roundsMetric("worker CPU per message", "µs", "lower", a.cpu, true))
		}
		if typing > 0 {
			res.add(roundsMetric("typing deliveries", "/s", "higher", a.typing, true))
			res.note("every member sends %d typing frames before each of its messages, the last right before it: %d typing frames in for every message; deliveries, latency and CPU per message are fanout's figures, of the messages alone (the CPU includes the typing frames' work); typing deliveries are the typing frames received, about one per message at every other member",
				typing, typing)
			a.check.report(&res)
		}
		others := "no other warm-up"
		if scenario != "fanout" && contains(r.cfg.Scenarios, "fanout") {
			others = "fanout's rounds before it"
		}
		res.note("%d rounds, each in a new room, interleaved with the other targets, after %s per target and %s; every figure is per round (latency percentiles too), the median round with the least and greatest",
			rounds, plural(warmup, "unmeasured warm-up round"), others)
		finish(&res, a.cs)
		out[i] = res
	}
	return out
}

// plural is "1 thing" or "n things".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

type fanoutRound struct {
	clients []*client
	lat     []time.Duration
	dups    int64
	dur     time.Duration // first send to last delivery
	cpu     time.Duration // the Worker's workerd CPU over the same span
	cpuOK   bool
	err     error
	// With typing: the typing frames received by the last delivery, and
	// the round's check of the typing rule.
	typingOut int64
	check     typingCheck
}

// typingCheck is what a typing round found against the typing rule.
type typingCheck struct {
	self  int64 // typing frames sent back to their sender
	stray int64 // typing frames naming no member of the round
	short int   // member pairs with fewer typing frames than messages, in complete rounds
	over  int   // users forwarded more often than a message or the throttle allows
}

func (c *typingCheck) add(o typingCheck) {
	c.self += o.self
	c.stray += o.stray
	c.short += o.short
	c.over += o.over
}

// report notes every breach of the typing rule, each starting "typing rule:".
func (c *typingCheck) report(res *Result) {
	if c.self > 0 {
		res.note("typing rule: %d typing frames came back to their own sender's socket", c.self)
	}
	if c.stray > 0 {
		res.note("typing rule: %d typing frames named no member of the round", c.stray)
	}
	if c.short > 0 {
		res.note("typing rule: %d times a member heard fewer typing frames from another than their messages (the first after each message always goes out in a room under the presence limit)", c.short)
	}
	if c.over > 0 {
		res.note("typing rule: %d times a user's typing was forwarded more often than once per message or %v", c.over, typingThrottle)
	}
}

// fanoutRound has n clients join room and send m messages each, tagged run,
// each message after typing typing frames.
func (r *runner) fanoutRound(ctx context.Context, t Target, room, run string, n, m, typing int) (fr fanoutRound) {
	u, err := r.url(t, room)
	if err != nil {
		fr.err = err
		return fr
	}
	tr := newTracker(run, m, int64(n)*int64(n)*int64(m))
	label := "fanout "
	if typing > 0 {
		tr.typing = newTypingCount(n)
		label = "typing "
	}
	jctx, jcancel := r.waitCtx(ctx)
	cs, _, err := r.joinAll(jctx, label+t.Name+" join", n, n, func(int) string { return u }, func(c *client) { c.track.Store(tr) })
	jcancel()
	defer closeAll(cs)
	fr.clients = cs
	if err != nil {
		fr.err = err
		return fr
	}
	wctx, cancel := r.waitCtx(ctx)
	defer cancel()
	bar := r.bar(label+t.Name, tr.expected, tr.unique.Load)
	cpu0, cpuOK := r.workerCPU()
	start := time.Now()
	var once sync.Once
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Add(1)
		go func(c *client) {
			defer wg.Done()
			for s := 0; s < m; s++ {
				for k := 0; k < typing; k++ {
					if err := c.typing(wctx); err != nil {
						once.Do(func() { fr.err = fmt.Errorf("typing: %w", err) })
						return
					}
				}
				p := payload{Run: run, Sender: c.idx, Seq: s, Sent: time.Now()}
				if err := c.message(wctx, p.text()); err != nil {
					once.Do(func() { fr.err = fmt.Errorf("send: %w", err) })
					return
				}
			}
		}(c)
	}
	wg.Wait()
	tr.wait(wctx)
	if cpu1, ok := r.workerCPU(); ok && cpuOK {
		fr.cpu, fr.cpuOK = cpu1-cpu0, true
	}
	bar.end()
	lat, last, dups := tr.snapshot()
	fr.lat, fr.dups, fr.dur = lat, dups, last.Sub(start)
	if tc := tr.typing; tc != nil {
		fr.typingOut = tc.total.Load()
		fr.check = checkTyping(tc, m, time.Since(start), len(lat) == n*n*m)
	}
	return fr
}

// checkTyping holds one round's typing frames to the rule, for members
// that send typing frames before each of their m messages: none back to its
// sender; in a complete round, every member heard at least m from every
// other (the first before each message goes out, the throttle ended by the
// message before it, and it reaches every member before that message); and
// a user's typing forwarded at most once, plus once after each of their m
// messages and once per throttle interval of the round's span.
func checkTyping(tc *typingCount, m int, span time.Duration, complete bool) typingCheck {
	c := typingCheck{self: tc.self.Load(), stray: tc.stray.Load()}
	if complete {
		c.short = tc.short(int64(m))
	}
	// One more interval than the span holds: the room's clock is not ours.
	allowed := int64(1 + m + int(span/typingThrottle) + 1)
	for s := 0; s < tc.n; s++ {
		if tc.most(s) > allowed {
			c.over++
		}
	}
	return c
}

// connect: N connections open and join one room, conc at a time; each is
// timed from the start of its handshake to its own user_joined.
func (r *runner) connect(ctx context.Context, t Target) Result {
	n, conc := r.cfg.Sizes.Connects, r.cfg.Sizes.ConnectConcurrency
	res := Result{Scenario: "connect", Target: t.Name, Path: t.Path, Params: map[string]int{"connections": n, "concurrency": conc},
		Expected: int64(n)}
	u, err := r.url(t, r.room("connect", t, 0))
	if err != nil {
		res.Err = err.Error()
		res.settle()
		return res
	}
	wctx, cancel := r.waitCtx(ctx)
	defer cancel()
	start := time.Now()
	cs, starts, err := r.joinAll(wctx, "connect "+t.Name, n, conc, func(int) string { return u }, nil)
	defer closeAll(cs)
	if err != nil {
		res.Err = err.Error()
	}
	var ds []time.Duration
	var last time.Time
	for i, c := range cs {
		if c != nil && c.hasJoined() {
			ds = append(ds, c.joinAt.Sub(starts[i]))
			if c.joinAt.After(last) {
				last = c.joinAt
			}
		}
	}
	res.Delivered = int64(len(ds))
	v, ok := rate(res.Delivered, last.Sub(start))
	res.add(metric("connects", "/s", "higher", v, ok && res.Delivered == res.Expected))
	latencies(&res, "to user_joined", ds, 50, 99)
	finish(&res, cs)
	return res
}

// wake: K clients join, the room is evicted, and one message is sent; each
// round times that message from its send to its last delivery.

// wakeWarmup wakes come first, unmeasured: the first wake in an isolate
// runs code that V8 compiles on first use, which every later wake finds
// compiled (measured: without it the Go room's slowest wake was about twice
// the JS room's; with it, 1.1 times).
const wakeWarmup = 1

func (r *runner) wake(ctx context.Context, t Target) Result {
	k, rounds := r.cfg.Sizes.WakeClients, r.cfg.Sizes.WakeRounds
	res := Result{Scenario: "wake", Target: t.Name, Path: t.Path, Params: map[string]int{"clients": k, "rounds": rounds},
		Expected: int64(k) * int64(rounds)}
	u, err := r.url(t, r.room("wake", t, 0))
	if err != nil {
		res.Err = err.Error()
		res.settle()
		return res
	}
	jctx, jcancel := r.waitCtx(ctx)
	cs, _, err := r.joinAll(jctx, "wake "+t.Name+" join", k, k, func(int) string { return u }, nil)
	jcancel()
	defer closeAll(cs)
	if err != nil {
		res.Err = err.Error()
		finish(&res, cs)
		return res
	}
	var wakes []time.Duration
	var how string
	var before map[string]int
	// cpu sums the Worker's workerd CPU from each measured send to its last
	// delivery: the room's work for a wake (its constructor, the rebuild,
	// the message), without the eviction before it. It is read in clock
	// ticks (10 ms), more than a wake takes, so only the mean over all
	// rounds is reported, not a spread.
	var cpu time.Duration
	cpuOK, cpuRounds := true, 0
	for round := -wakeWarmup; round < rounds; round++ {
		if round == 0 {
			before = r.constructed(ctx)
		}
		if how, err = r.evict(ctx); err != nil {
			res.Err = "evict: " + err.Error()
			break
		}
		tr := newTracker(fmt.Sprintf("%s-w%d", r.runID, round), 1, int64(k))
		track(cs, tr)
		sender := cs[(round+wakeWarmup)%k]
		cpu0, ok0 := r.workerCPU()
		p := payload{Run: tr.run, Sender: sender.idx, Seq: 0, Sent: time.Now()}
		wctx, cancel := r.waitCtx(ctx)
		if err := sender.message(wctx, p.text()); err != nil {
			cancel()
			res.Err = "send: " + err.Error()
			break
		}
		tr.wait(wctx)
		cancel()
		cpu1, ok1 := r.workerCPU()
		if round >= 0 {
			cpu += cpu1 - cpu0
			cpuOK = cpuOK && ok0 && ok1
			cpuRounds++
		}
		lat, last, dups := tr.snapshot()
		if round < 0 {
			if len(lat) != k {
				res.Err = fmt.Sprintf("warm-up wake: %d of %d deliveries arrived", len(lat), k)
				break
			}
			continue
		}
		res.Delivered += int64(len(lat))
		res.Duplicates += dups
		if len(lat) == k {
			wakes = append(wakes, last.Sub(p.Sent))
		}
	}
	res.note("%s before each of %d rounds, after %d unmeasured warm-up wake(s)", how, rounds, wakeWarmup)
	if after := r.constructed(ctx); before != nil && after != nil {
		if _, ok := after[t.Name]; ok {
			res.note("the %s room class was constructed %d times over %d rounds (once per wake expected)", t.Name, after[t.Name]-before[t.Name], rounds)
		}
	}
	// p50 is the median wake, with the fastest and the slowest; p100 is the
	// slowest again, kept as a figure of its own for its Go/JS ratio.
	var wms []float64
	for _, d := range wakes {
		wms = append(wms, ms(d))
	}
	res.add(roundsMetric("wake to last delivery p50", "ms", "lower", wms, true))
	latencies(&res, "wake to last delivery", wakes, 100)
	if cpuRounds > 0 {
		res.add(metric("worker CPU per wake", "µs", "lower", float64(cpu)/float64(time.Microsecond)/float64(cpuRounds), cpuOK))
	}
	finish(&res, cs)
	return res
}

// hold: C connections join one room, then one message is broadcast to all of
// them; workerd's RSS is read before, after the joins and after the broadcast.
func (r *runner) hold(ctx context.Context, t Target) Result {
	n, conc := r.cfg.Sizes.Hold, r.cfg.Sizes.HoldConcurrency
	// Expected: every connection's own user_joined, then the broadcast.
	res := Result{Scenario: "hold", Target: t.Name, Path: t.Path, Params: map[string]int{"connections": n, "concurrency": conc},
		Expected: 2 * int64(n)}
	if err := r.fresh(ctx); err != nil {
		res.Err = "restart: " + err.Error()
		res.settle()
		return res
	}
	base := r.cfg.BaseURL
	if r.srv != nil && r.cfg.HoldDirect {
		direct, err := r.srv.WorkerURL()
		if err != nil {
			res.Err = err.Error()
			return res
		}
		base = direct
		res.note("connected to the Worker's own workerd at %s, past wrangler dev's proxy: through the proxy every WebSocket holds descriptors in two processes, and this machine's hard limit of open files would stop the join storm short of %d", direct, IssueHold)
	}
	u, err := wsURL(base, t.Path+"/"+r.room("hold", t, 0))
	if err != nil {
		res.Err = err.Error()
		res.settle()
		return res
	}
	perConn := uint64(workerdFDsPerConn)
	if base != r.cfg.BaseURL {
		perConn = workerdDirectFDsPerConn
	}
	if lim, ok := openFileLimit(); ok && r.srv != nil && uint64(n)*perConn > lim {
		res.note("workerd holds about %d descriptors per connection here, so the open-file limit %d it inherits allows about %d connections; raise the hard limit (ulimit -Hn)",
			perConn, lim, lim/perConn)
	}
	before, rssOK := r.rss()
	jctx, jcancel := context.WithTimeout(ctx, r.cfg.HoldJoinTimeout)
	start := time.Now()
	cs, _, err := r.joinAll(jctx, "hold "+t.Name+" join", n, conc, func(int) string { return u }, nil)
	joinDur := time.Since(start)
	jcancel()
	defer closeAll(cs)
	joined := joinedCount(cs)
	res.Delivered = joined
	res.add(metric("join all", "s", "lower", joinDur.Seconds(), err == nil && joined == int64(n)))
	res.add(metric("joined", "conns", "higher", float64(joined), true))
	v, ok := rate(joined, joinDur)
	res.add(metric("joins", "/s", "higher", v, ok))
	afterJoin, _ := r.rss()
	var bcast time.Duration
	bcastOK := false
	if err != nil {
		res.Err = err.Error()
		res.note("%d of %d joined (join deadline %v); no broadcast measured", joined, n, r.cfg.HoldJoinTimeout)
	} else {
		tr := newTracker(r.runID, 1, int64(n))
		track(cs, tr)
		bar := r.bar("hold "+t.Name+" broadcast", int64(n), tr.unique.Load)
		wctx, cancel := r.waitCtx(ctx)
		p := payload{Run: r.runID, Sender: 0, Seq: 0, Sent: time.Now()}
		if err := cs[0].message(wctx, p.text()); err != nil {
			res.Err = "send: " + err.Error()
		}
		tr.wait(wctx)
		cancel()
		bar.end()
		lat, last, dups := tr.snapshot()
		res.Delivered += int64(len(lat))
		res.Duplicates = dups
		bcast, bcastOK = last.Sub(p.Sent), len(lat) == n
	}
	after, _ := r.rss()
	res.add(metric("broadcast to last delivery", "ms", "lower", ms(bcast), bcastOK))
	res.add(metric("rss before", "MiB", "lower", mib(before), rssOK))
	res.add(metric("rss after join", "MiB", "lower", mib(afterJoin), rssOK))
	res.add(metric("rss after broadcast", "MiB", "lower", mib(after), rssOK))
	res.add(metric("rss above before", "MiB", "lower", mib(after-before), rssOK))
	finish(&res, cs)
	return res
}

// roomsConcurrency is how many rooms-scenario joins are in flight at once.
const roomsConcurrency = 32

// rooms: R rooms of c clients each join, everyone sends one message to their
// room, and workerd's RSS with all rooms active is compared with idle.
func (r *runner) rooms(ctx context.Context, t Target) Result {
	nr, per := r.cfg.Sizes.Rooms, r.cfg.Sizes.RoomClients
	res := Result{Scenario: "rooms", Target: t.Name, Path: t.Path, Params: map[string]int{"rooms": nr, "clientsPerRoom": per},
		Expected: int64(nr) * int64(per) * int64(per)}
	if err := r.fresh(ctx); err != nil {
		res.Err = "restart: " + err.Error()
		res.settle()
		return res
	}
	urls := make([]string, nr)
	for i := range urls {
		u, err := r.url(t, r.room("rooms", t, i))
		if err != nil {
			res.Err = err.Error()
			res.settle()
			return res
		}
		urls[i] = u
	}
	idle, rssOK := r.rss()
	workerIdle, workerOK := r.workerRSS()
	tr := newTracker(r.runID, 1, res.Expected)
	n := nr * per
	jctx, jcancel := r.waitCtx(ctx)
	cs, _, err := r.joinAll(jctx, "rooms "+t.Name+" join", n, roomsConcurrency, func(i int) string { return urls[i/per] }, func(c *client) { c.track.Store(tr) })
	jcancel()
	defer closeAll(cs)
	if err != nil {
		res.Err = err.Error()
		finish(&res, cs)
		return res
	}
	wctx, cancel := r.waitCtx(ctx)
	defer cancel()
	bar := r.bar("rooms "+t.Name, res.Expected, tr.unique.Load)
	for _, c := range cs {
		p := payload{Run: r.runID, Sender: c.idx, Seq: 0, Sent: time.Now()}
		if err := c.message(wctx, p.text()); err != nil {
			res.Err = "send: " + err.Error()
			break
		}
	}
	tr.wait(wctx)
	bar.end()
	active, _ := r.rss()
	workerActive, _ := r.workerRSS()
	lat, _, dups := tr.snapshot()
	res.Delivered, res.Duplicates = int64(len(lat)), dups
	res.add(metric("rss idle", "MiB", "lower", mib(idle), rssOK))
	res.add(metric("rss active", "MiB", "lower", mib(active), rssOK))
	res.add(metric("rss above idle", "MiB", "lower", mib(active-idle), rssOK))
	// The same for the Worker's own workerd alone, without the proxy that
	// wrangler dev runs in front of it (and that production does not have).
	res.add(metric("worker rss above idle", "MiB", "lower", mib(workerActive-workerIdle), workerOK))
	latencies(&res, "latency", lat, 99)
	finish(&res, cs)
	return res
}
