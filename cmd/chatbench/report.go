package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
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
}

func metric(name, unit, better string, v float64, ok bool) Metric {
	m := Metric{Name: name, Unit: unit, Better: better}
	if ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
		m.Value = &v
	}
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
	fmt.Fprintf(w, "machine: %d CPUs (nproc), %s, %s, %s\n", rep.Machine.NProc, rep.Machine.CPU, rep.Machine.OS, rep.Machine.Go)
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
	fmt.Fprintf(w, "targets: %s\n\n", strings.Join(names, ", "))

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
				v := lookup(byTarget[t.Name], m.Name)
				vals = append(vals, v)
				row += formatValue(v) + "\t"
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

func lookup(r *Result, name string) *float64 {
	if r == nil {
		return nil
	}
	for _, m := range r.Metrics {
		if m.Name == name {
			return m.Value
		}
	}
	return nil
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
