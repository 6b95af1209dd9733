// Package benchpair measures benchmark variants in turn, round after
// round, and reports their paired ratios: on a shared machine whose load
// changes by the second, the ratio of two variants measured in the same
// round is steady where their separate times are not. The median of the
// per-round ratios ignores the rounds a burst of load fell on. A side's run
// in a round should last some milliseconds, so that it includes its share
// of garbage collection.
package benchpair

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// Rounds holds the time each side took in each round.
type Rounds struct {
	names     []string
	units     []int // what one run of a side counts, e.g. spans
	wall, cpu [][]time.Duration
}

// New returns Rounds for sides of the given names, each run of side i
// counting units[i] units (spans, say) for the per-unit figures.
func New(names []string, units []int) *Rounds {
	return &Rounds{
		names: names, units: units,
		wall: make([][]time.Duration, len(names)),
		cpu:  make([][]time.Duration, len(names)),
	}
}

// Order returns the order in which to run n sides in round r: a
// permutation drawn afresh for each round (the same for the same r), so
// that what one side leaves behind (garbage to collect, a cold cache)
// falls on every other side alike rather than on a fixed neighbour.
func Order(n, r int) []int {
	rng := rand.New(rand.NewPCG(uint64(r), 0x5eed))
	return rng.Perm(n)
}

// Time runs f as one run of side i and records its wall and process CPU
// time.
func (r *Rounds) Time(i int, f func()) {
	c0, _ := ProcessCPUTime()
	t0 := time.Now()
	f()
	w := time.Since(t0)
	c1, ok := ProcessCPUTime()
	r.wall[i] = append(r.wall[i], w)
	if ok {
		r.cpu[i] = append(r.cpu[i], c1-c0)
	}
}

// Report adds, for each side, its median time per unit ("ns/<unit>-<side>")
// and, for each side but base, the median over rounds of its time per unit
// over base's ("<side>/<base>", and "<side>/<base>-cpu" by process CPU
// time).
func (r *Rounds) Report(b *testing.B, unit string, base int) {
	for i, name := range r.names {
		if len(r.wall[i]) == 0 {
			continue
		}
		b.ReportMetric(median(r.wall[i])/float64(r.units[i]), "ns/"+unit+"-"+name)
		if i == base {
			continue
		}
		b.ReportMetric(r.Ratio(i, base, false), name+"/"+r.names[base])
		if len(r.cpu[i]) == len(r.wall[i]) && len(r.cpu[base]) == len(r.wall[base]) {
			b.ReportMetric(r.Ratio(i, base, true), name+"/"+r.names[base]+"-cpu")
		}
	}
}

// Ratio returns the median over rounds of side i's time per unit over side
// j's, by process CPU time when cpu is set.
func (r *Rounds) Ratio(i, j int, cpu bool) float64 {
	ti, tj := r.wall[i], r.wall[j]
	if cpu {
		ti, tj = r.cpu[i], r.cpu[j]
	}
	n := min(len(ti), len(tj))
	ratios := make([]float64, 0, n)
	for k := range n {
		if tj[k] > 0 {
			ratios = append(ratios, float64(ti[k])/float64(r.units[i])/(float64(tj[k])/float64(r.units[j])))
		}
	}
	return medianFloat(ratios)
}

func median(d []time.Duration) float64 {
	f := make([]float64, len(d))
	for i, v := range d {
		f[i] = float64(v)
	}
	return medianFloat(f)
}

func medianFloat(f []float64) float64 {
	if len(f) == 0 {
		return 0
	}
	slices.Sort(f)
	if len(f)%2 == 1 {
		return f[len(f)/2]
	}
	return (f[len(f)/2-1] + f[len(f)/2]) / 2
}
