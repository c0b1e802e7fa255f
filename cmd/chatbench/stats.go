package main

import (
	"math"
	"slices"
	"time"
)

// percentile returns the p-th percentile (0 < p ≤ 100) of ds by the
// nearest-rank method: the smallest value with at least p% of the values at
// or below it. ds is sorted in place. It returns false for no values.
func percentile(ds []time.Duration, p float64) (time.Duration, bool) {
	if len(ds) == 0 || p <= 0 || p > 100 || math.IsNaN(p) {
		return 0, false
	}
	slices.Sort(ds)
	rank := int(math.Ceil(p / 100 * float64(len(ds))))
	if rank < 1 {
		rank = 1
	}
	return ds[rank-1], true
}

// median is the middle value of xs (the mean of the two middle ones for an
// even count), and false for none. xs is not modified.
func median(xs []float64) (float64, bool) {
	if len(xs) == 0 {
		return 0, false
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2], true
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2, true
}

// spread is the least, middle and greatest of a figure measured once per
// round: the median is the figure chatbench reports, min and max show how far
// the rounds strayed from it.
type spread struct {
	min, median, max float64
	n                int // rounds it is over
}

// spreadOf is the spread of xs, one value a round, with the values that are
// not finite (a rate over no time) left out; false when none is left. xs is
// not modified.
func spreadOf(xs []float64) (spread, bool) {
	var s []float64
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			s = append(s, x)
		}
	}
	med, ok := median(s)
	if !ok {
		return spread{}, false
	}
	return spread{min: slices.Min(s), median: med, max: slices.Max(s), n: len(s)}, true
}

// rate is count per second over d, and false when d is not positive.
func rate(count int64, d time.Duration) (float64, bool) {
	if d <= 0 {
		return 0, false
	}
	return float64(count) / d.Seconds(), true
}

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// mib is n bytes in MiB.
func mib(n int64) float64 { return float64(n) / (1 << 20) }

// ratio is a/b for the side-by-side table, false when it means nothing.
func ratio(a, b float64) (float64, bool) {
	if b == 0 || math.IsNaN(a) || math.IsNaN(b) || math.IsInf(a, 0) || math.IsInf(b, 0) {
		return 0, false
	}
	return a / b, true
}
