package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Metric is one figure of a scenario. Value is nil when it could not be
// measured (for example RSS against a server chatbench did not start).
type Metric struct {
	Name  string   `json:"name"`
	Unit  string   `json:"unit"`
	Value *float64 `json:"value"`
	// Better is "higher" or "lower": which way the Go/JS ratio should go.
	Better string `json:"better"`
	Note   string `json:"note,omitempty"`
	// A figure measured once per round (fanout's, wake's) is the median
	// round: Value and Median are then the same, Min and Max are the least
	// and greatest round, Rounds counts the rounds and PerRound lists them
	// in the order they ran. A figure measured once has none of these.
	Min      *float64  `json:"min,omitempty"`
	Median   *float64  `json:"median,omitempty"`
	Max      *float64  `json:"max,omitempty"`
	Rounds   int       `json:"rounds,omitempty"`
	PerRound []float64 `json:"perRound,omitempty"`
}

func metric(name, unit, better string, v float64, ok bool) Metric {
	m := Metric{Name: name, Unit: unit, Better: better}
	if ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
		m.Value = &v
	}
	return m
}

// roundsMetric is a figure measured once per round, xs: its Value is the
// median round, with the spread of the rounds. Not ok, or no finite round,
// leaves it unmeasured.
func roundsMetric(name, unit, better string, xs []float64, ok bool) Metric {
	sp, sok := spreadOf(xs)
	m := metric(name, unit, better, sp.median, ok && sok)
	if m.Value == nil {
		return m
	}
	lo, mid, hi := sp.min, sp.median, sp.max
	m.Min, m.Median, m.Max, m.Rounds = &lo, &mid, &hi, sp.n
	m.PerRound = slices.Clone(xs)
	return m
}

// Result is one scenario run against one target.
type Result struct {
	Scenario string         `json:"scenario"`
	Target   string         `json:"target"`
	Path     string         `json:"path"`
	Params   map[string]int `json:"params"`
	Metrics  []Metric       `json:"metrics"`
	// Expected and Delivered count the frames the scenario waited for;
	// Missing is their difference, and Complete says it is zero.
	Expected    int64    `json:"expected"`
	Delivered   int64    `json:"delivered"`
	Missing     int64    `json:"missing"`
	Duplicates  int64    `json:"duplicates"`
	ErrorFrames int64    `json:"errorFrames"`
	Complete    bool     `json:"complete"`
	Notes       []string `json:"notes,omitempty"`
	Err         string   `json:"error,omitempty"`
}

func (r *Result) add(m ...Metric) { r.Metrics = append(r.Metrics, m...) }

func (r *Result) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// settle fills Missing and Complete from Expected and Delivered.
func (r *Result) settle() {
	r.Missing = r.Expected - r.Delivered
	r.Complete = r.Missing == 0 && r.Err == ""
}

// Machine describes where the numbers were measured.
type Machine struct {
	NProc int    `json:"nproc"`
	CPU   string `json:"cpu"`
	OS    string `json:"os"`
	Go    string `json:"go"`
}

// line is the machine as the report's header gives it (and chatbench logs it
// when it starts): the CPU count nproc would print, and the CPU model.
func (m Machine) line() string {
	return fmt.Sprintf("machine: nproc %d, %s, %s, %s", m.NProc, m.CPU, m.OS, m.Go)
}

// Report is everything one chatbench run measured.
type Report struct {
	Date      string   `json:"date"`
	Size      string   `json:"size"`
	Machine   Machine  `json:"machine"`
	OpenFiles string   `json:"openFiles"`
	Server    string   `json:"server"`
	Wasm      *Wasm    `json:"wasm,omitempty"`
	Targets   []Target `json:"targets"`
	Notes     []string `json:"notes,omitempty"`
	Results   []Result `json:"results"`
}

// Wasm is the size of the Go worker's module.
type Wasm struct {
	Path      string `json:"path"`
	Bytes     int64  `json:"bytes"`
	GzipBytes int64  `json:"gzipBytes"`
}

func writeJSON(w io.Writer, rep *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// writeTable prints the report with one column per target, side by side, and
// the first/second ratio of every figure when there are two targets.
func writeTable(w io.Writer, rep *Report) {
	fmt.Fprintf(w, "chatbench %s, size %s\n", rep.Date, rep.Size)
	fmt.Fprintln(w, rep.Machine.line())
	fmt.Fprintf(w, "open files: %s\n", rep.OpenFiles)
	fmt.Fprintf(w, "server: %s\n", rep.Server)
	if rep.Wasm != nil {
		fmt.Fprintf(w, "wasm: %s %.2f MB raw, %.2f MB gzipped by Go compress/gzip level 9 (%d bytes; GNU gzip -9 is a little smaller)\n", rep.Wasm.Path,
			float64(rep.Wasm.Bytes)/1e6, float64(rep.Wasm.GzipBytes)/1e6, rep.Wasm.GzipBytes)
	}
	var names []string
	for _, t := range rep.Targets {
		names = append(names, t.Name+"="+t.Path)
	}
	fmt.Fprintf(w, "targets: %s\n", strings.Join(names, ", "))
	if hasSpread(rep.Results) {
		ratio := ""
		if len(rep.Targets) == 2 {
			ratio = "; the ratio is of the medians"
		}
		fmt.Fprintf(w, "a figure measured over rounds reads median (min–max) of its rounds%s\n", ratio)
	}
	fmt.Fprintln(w)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "scenario\tfigure\t"
	for _, t := range rep.Targets {
		head += t.Name + "\t"
	}
	two := len(rep.Targets) == 2
	if two {
		head += rep.Targets[0].Name + "/" + rep.Targets[1].Name + "\tbetter\t"
	}
	fmt.Fprintln(tw, head)
	for _, sc := range scenarioOrder(rep.Results) {
		byTarget := map[string]*Result{}
		var first *Result
		for i := range rep.Results {
			r := &rep.Results[i]
			if r.Scenario == sc {
				byTarget[r.Target] = r
				if first == nil {
					first = r
				}
			}
		}
		for _, m := range first.Metrics {
			row := sc + "\t" + m.Name + " (" + m.Unit + ")\t"
			var vals []*float64
			for _, t := range rep.Targets {
				tm := lookup(byTarget[t.Name], m.Name)
				if tm == nil {
					vals = append(vals, nil)
					row += formatValue(nil) + "\t"
					continue
				}
				vals = append(vals, tm.Value)
				row += formatMetric(tm) + "\t"
			}
			if two {
				row += formatRatio(vals[0], vals[1]) + "\t" + m.Better + "\t"
			}
			fmt.Fprintln(tw, row)
		}
		row := sc + "\tdelivered\t"
		for _, t := range rep.Targets {
			row += delivery(byTarget[t.Name]) + "\t"
		}
		if two {
			row += "\t\t"
		}
		fmt.Fprintln(tw, row)
	}
	tw.Flush()
	notes := rep.Notes
	for _, r := range rep.Results {
		for _, n := range r.Notes {
			notes = append(notes, r.Scenario+"/"+r.Target+": "+n)
		}
		if r.Err != "" {
			notes = append(notes, r.Scenario+"/"+r.Target+": ERROR "+r.Err)
		}
	}
	if len(notes) > 0 {
		fmt.Fprintln(w, "\nnotes:")
		for _, n := range notes {
			fmt.Fprintln(w, "  - "+n)
		}
	}
}

// scenarioOrder lists the scenarios in the order they first appear.
func scenarioOrder(rs []Result) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range rs {
		if !seen[r.Scenario] {
			seen[r.Scenario] = true
			out = append(out, r.Scenario)
		}
	}
	return out
}

func lookup(r *Result, name string) *Metric {
	if r == nil {
		return nil
	}
	for i := range r.Metrics {
		if r.Metrics[i].Name == name {
			return &r.Metrics[i]
		}
	}
	return nil
}

// hasSpread says whether any figure is over more than one round.
func hasSpread(rs []Result) bool {
	for _, r := range rs {
		for _, m := range r.Metrics {
			if m.Rounds > 1 {
				return true
			}
		}
	}
	return false
}

// formatMetric is a table cell: the figure, and for one measured over
// several rounds the least and greatest round after it, "452.5 (430.1–470.2)".
func formatMetric(m *Metric) string {
	if m.Value == nil || m.Rounds < 2 || m.Min == nil || m.Max == nil {
		return formatValue(m.Value)
	}
	return formatValue(m.Value) + " (" + formatValue(m.Min) + "–" + formatValue(m.Max) + ")"
}

func delivery(r *Result) string {
	switch {
	case r == nil:
		return "-"
	case r.Complete:
		return fmt.Sprintf("%d/%d complete", r.Delivered, r.Expected)
	default:
		return fmt.Sprintf("%d/%d MISSING %d", r.Delivered, r.Expected, r.Missing)
	}
}

// formatValue prints a figure with about four significant digits.
func formatValue(v *float64) string {
	if v == nil {
		return "n/a"
	}
	x := *v
	switch a := math.Abs(x); {
	case a >= 1000:
		return strconv.FormatFloat(x, 'f', 0, 64)
	case a >= 100:
		return strconv.FormatFloat(x, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(x, 'f', 2, 64)
	default:
		return strconv.FormatFloat(x, 'f', 3, 64)
	}
}

func formatRatio(a, b *float64) string {
	if a == nil || b == nil {
		return "n/a"
	}
	r, ok := ratio(*a, *b)
	if !ok {
		return "n/a"
	}
	return strconv.FormatFloat(r, 'f', 2, 64)
}
