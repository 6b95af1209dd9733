package monitor

import (
	"math"
	"math/bits"
	"slices"
	"time"

	"github.com/stagetrace/stagetrace/usage"
)

// SeriesKind says what a series aggregates.
type SeriesKind string

// Series kinds.
const (
	// KindSpan is the series of the spans of one name; its values are
	// durations in milliseconds.
	KindSpan SeriesKind = "span"
	// KindStage is the series of the spans of one stage; its values are
	// durations in milliseconds.
	KindStage SeriesKind = "stage"
	// KindMetric is the series of the metric events of one metric.name;
	// its values are their metric.value.
	KindMetric SeriesKind = "metric"
	// KindFinding is the series of the values of one numeric finding
	// (true and false count as 1 and 0).
	KindFinding SeriesKind = "finding"
	// KindLog is the series of the log events of one level or above,
	// named by the level (log:error counts error and critical); its values
	// are their OpenTelemetry severity numbers.
	KindLog SeriesKind = "log"
)

// hasStatus reports whether records of the kind have a status, so that
// success and error rates mean something.
func (k SeriesKind) hasStatus() bool { return k == KindSpan || k == KindStage }

// bucket aggregates one series over one period of the resolution.
type bucket struct {
	epoch   int64 // start of the period, in resolutions since the epoch
	count   int64 // records
	errors  int64 // records with an error status
	values  int64 // values observed, NaN and infinities excluded
	invalid int64 // NaN and infinite values skipped
	sum     float64
	min     float64
	max     float64
	samples []float64 // all values, or a uniform sample of them once values > limit
	// Tokens of the span and stage series: spans that reported tokens,
	// and their sums.
	tokSpans, tokIn, tokOut, tokTotal int64
}

// observe adds a value to the bucket, keeping a uniform sample of at most
// limit values (Vitter's algorithm R). The first limit values are placed
// in random order (an inside-out shuffle), so that any prefix of the
// sample is a uniform sample too.
func (b *bucket) observe(v float64, limit int, r *fastRand) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		b.invalid++
		return
	}
	b.values++
	b.sum += v
	if b.values == 1 || v < b.min {
		b.min = v
	}
	if b.values == 1 || v > b.max {
		b.max = v
	}
	if n := len(b.samples); n < limit {
		b.samples = append(b.samples, v)
		if n > 0 {
			j := r.below(uint64(n + 1))
			b.samples[n], b.samples[j] = b.samples[j], v
		}
		return
	}
	if j := r.below(uint64(b.values)); j < uint64(limit) {
		b.samples[j] = v
	}
}

// fastRand is wyrand: reservoir sampling draws a number for every value
// past the sample's size, and this costs a nanosecond where math/rand/v2
// costs several. It is not safe for concurrent use: the monitor's lock
// guards it.
type fastRand struct{ s uint64 }

func (r *fastRand) next() uint64 {
	r.s += 0xa0761d6478bd642f
	hi, lo := bits.Mul64(r.s, r.s^0xe7037ed1a0b428db)
	return hi ^ lo
}

// below returns a number in [0, n), by Lemire's multiply-shift; its bias,
// under n/2^64, does not matter here.
func (r *fastRand) below(n uint64) uint64 {
	hi, _ := bits.Mul64(r.next(), n)
	return hi
}

// series is one aggregated series: its buckets within the retention, in
// ascending epoch order.
type series struct {
	kind    SeriesKind
	name    string
	unit    string
	buckets []bucket
	// spare holds sample arrays of dropped buckets, for reuse.
	spare [][]float64
	// watchers are the count-where alert rules on this series.
	watchers []*rule
	// touched is the Write generation that last added to the series.
	touched uint64
}

// at returns the bucket of epoch, creating it in order. The pointer is
// valid until the next call.
func (s *series) at(epoch int64) *bucket {
	n := len(s.buckets)
	if n > 0 && s.buckets[n-1].epoch == epoch {
		return &s.buckets[n-1]
	}
	i := n
	for i > 0 && s.buckets[i-1].epoch > epoch {
		i--
	}
	if i > 0 && s.buckets[i-1].epoch == epoch {
		return &s.buckets[i-1]
	}
	b := bucket{epoch: epoch}
	if k := len(s.spare); k > 0 {
		b.samples, s.spare = s.spare[k-1], s.spare[:k-1]
	}
	s.buckets = slices.Insert(s.buckets, i, b)
	return &s.buckets[i]
}

// maxSpare is how many sample arrays of dropped buckets a series keeps for
// its next buckets: in the steady state one bucket leaves the retention
// as one is created.
const maxSpare = 2

// prune drops the buckets of epochs before first; it reports whether the
// series is now empty.
func (s *series) prune(first int64) bool {
	i := 0
	for i < len(s.buckets) && s.buckets[i].epoch < first {
		if len(s.spare) < maxSpare && s.buckets[i].samples != nil {
			s.spare = append(s.spare, s.buckets[i].samples[:0])
		}
		i++
	}
	if i > 0 {
		clear(s.buckets[:i]) // let the other samples be collected
		s.buckets = s.buckets[i:]
	}
	return len(s.buckets) == 0
}

// inWindow returns the buckets of epochs from first on.
func (s *series) inWindow(first int64) []bucket {
	i := len(s.buckets)
	for i > 0 && s.buckets[i-1].epoch >= first {
		i--
	}
	return s.buckets[i:]
}

// Stats are a series' aggregates over a window. Values are durations in
// milliseconds for span and stage series, metric values for metric series
// and finding values for finding series. Over an empty window every
// number is zero.
type Stats struct {
	Kind          SeriesKind    `json:"kind"`
	Name          string        `json:"name"`           // without the kind's prefix
	Window        time.Duration `json:"-"`              // as asked for
	WindowSeconds float64       `json:"window_seconds"` // Window in seconds
	// Count is the number of records: spans, metric events, or spans
	// carrying the finding.
	Count int64 `json:"count"`
	// Errors is the number of spans with an error status (span and stage
	// series only); SuccessRate and ErrorRate are their shares of Count:
	// a span with an unset status succeeded.
	Errors      int64   `json:"errors"`
	SuccessRate float64 `json:"success_rate"`
	ErrorRate   float64 `json:"error_rate"`
	// Values is the number of values in the distribution below; Invalid
	// counts NaN and infinite values, which are left out of it.
	Values  int64   `json:"values"`
	Invalid int64   `json:"invalid"`
	Unit    string  `json:"unit,omitempty"`
	Sum     float64 `json:"sum"`
	Mean    float64 `json:"mean"`
	Min     float64 `json:"min"`
	Max     float64 `json:"max"`
	P50     float64 `json:"p50"`
	P95     float64 `json:"p95"`
	P99     float64 `json:"p99"`
	// Exact is true when the quantiles were computed over every value of
	// the window, false when over the buckets' samples.
	Exact bool `json:"exact"`
	// Tokens reported by the series' spans (span and stage series): how
	// many spans reported tokens, their sums and their means per such
	// span.
	TokenSpans       int64   `json:"token_spans"`
	InputTokens      int64   `json:"input_tokens"`
	OutputTokens     int64   `json:"output_tokens"`
	TotalTokens      int64   `json:"total_tokens"`
	MeanInputTokens  float64 `json:"mean_input_tokens"`
	MeanOutputTokens float64 `json:"mean_output_tokens"`
	MeanTotalTokens  float64 `json:"mean_total_tokens"`
}

// Key returns the series' full name, kind prefix included:
// "stage:inference".
func (s Stats) Key() string { return string(s.Kind) + ":" + s.Name }

// maxQuantileSamples bounds the samples quantiles are computed from, so
// that evaluating a rule on every Write stays cheap however long its
// window.
const maxQuantileSamples = 4096

// scratch holds the buffers quantiles reuse, so that evaluating rules
// does not allocate per call.
type scratch struct {
	vals []float64
	keys []uint64
	wts  []float64
}

// stats aggregates buckets into Stats; quantiles only when q is set.
func (s *series) stats(buckets []bucket, window time.Duration, q bool, sc *scratch) Stats {
	st := Stats{Kind: s.kind, Name: s.name, Unit: s.unit, Window: window, WindowSeconds: window.Seconds(), Exact: true}
	exact := true
	for i := range buckets {
		b := &buckets[i]
		st.Count += b.count
		st.Errors += b.errors
		st.Invalid += b.invalid
		st.TokenSpans += b.tokSpans
		st.InputTokens = usage.AddCount(st.InputTokens, b.tokIn)
		st.OutputTokens = usage.AddCount(st.OutputTokens, b.tokOut)
		st.TotalTokens = usage.AddCount(st.TotalTokens, b.tokTotal)
		if b.values == 0 {
			continue
		}
		if st.Values == 0 || b.min < st.Min {
			st.Min = b.min
		}
		if st.Values == 0 || b.max > st.Max {
			st.Max = b.max
		}
		st.Values += b.values
		st.Sum += b.sum
		if int64(len(b.samples)) < b.values {
			exact = false
		}
	}
	if st.Count > 0 && s.kind.hasStatus() {
		st.ErrorRate = float64(st.Errors) / float64(st.Count)
		st.SuccessRate = 1 - st.ErrorRate
	}
	if st.TokenSpans > 0 {
		n := float64(st.TokenSpans)
		st.MeanInputTokens = float64(st.InputTokens) / n
		st.MeanOutputTokens = float64(st.OutputTokens) / n
		st.MeanTotalTokens = float64(st.TotalTokens) / n
	}
	if st.Values == 0 {
		return st
	}
	st.Mean = st.Sum / float64(st.Values)
	if !q {
		return st
	}
	st.Exact = exact && exactWindow(buckets)
	if st.Exact {
		v := sc.vals[:0]
		for i := range buckets {
			v = append(v, buckets[i].samples...)
		}
		slices.Sort(v)
		st.P50, st.P95, st.P99 = quantile(v, 0.50), quantile(v, 0.95), quantile(v, 0.99)
		sc.vals = v
		return st
	}
	// Each bucket's samples stand for its values, weighted by how many
	// values each stands for; past the budget, a prefix of each (a uniform
	// sample too) stands for them. Samples are sorted as integer keys that
	// order like the values and carry their bucket in the low bits: the
	// values lose those bits (a relative error under 2^-40), and the sort
	// runs several times faster than on pairs.
	frac := sampleFrac(buckets)
	idxBits := uint(bits.Len(uint(len(buckets))))
	mask := uint64(1)<<idxBits - 1
	keys, wts := sc.keys[:0], sc.wts[:0]
	var total float64
	for i := range buckets {
		b := &buckets[i]
		n := prefix(frac, len(b.samples))
		wts = append(wts, 0)
		if n == 0 {
			continue
		}
		wts[i] = float64(b.values) / float64(n)
		for _, v := range b.samples[:n] {
			keys = append(keys, orderedBits(v)&^mask|uint64(i))
		}
		total += float64(b.values)
	}
	slices.Sort(keys)
	st.P50 = weightedQuantile(keys, wts, mask, total, 0.50)
	st.P95 = weightedQuantile(keys, wts, mask, total, 0.95)
	st.P99 = weightedQuantile(keys, wts, mask, total, 0.99)
	sc.keys, sc.wts = keys, wts
	return st
}

// exactWindow reports whether quantiles over buckets are computed from
// every value: each bucket kept all of its values, and they are within the
// budget.
func exactWindow(buckets []bucket) bool {
	var n int64
	for i := range buckets {
		b := &buckets[i]
		if int64(len(b.samples)) < b.values {
			return false
		}
		n += b.values
	}
	return n <= maxQuantileSamples
}

// sampleFrac returns the share of each bucket's samples that quantiles
// use: all, or as much as the budget allows.
func sampleFrac(buckets []bucket) float64 {
	var kept int64
	for i := range buckets {
		kept += int64(len(buckets[i].samples))
	}
	if kept == 0 {
		return 1
	}
	return min(1, float64(maxQuantileSamples)/float64(kept))
}

// prefix returns how many of n samples the share frac is.
func prefix(frac float64, n int) int { return int(math.Ceil(frac * float64(n))) }

// compareQuantile returns the sign of (the q-quantile of the values in
// buckets) - t, as stats would compute the quantile, in one pass and
// without sorting: alert rules on percentiles are evaluated on every
// Write, and the quantile itself is computed only when an alert is
// raised. The buckets hold at least one value.
func compareQuantile(buckets []bucket, q, t float64) int {
	if exactWindow(buckets) {
		// Sorted, the values are below t, then equal to it, then above.
		var n, below, equal int
		maxBelow, minAbove := math.Inf(-1), math.Inf(1)
		for i := range buckets {
			for _, v := range buckets[i].samples {
				n++
				switch {
				case v < t:
					below++
					maxBelow = max(maxBelow, v)
				case v == t:
					equal++
				default:
					minAbove = min(minAbove, v)
				}
			}
		}
		side := func(i int) int {
			switch {
			case i < below:
				return -1
			case i < below+equal:
				return 0
			}
			return 1
		}
		h := q * float64(n-1)
		lo := int(h)
		f := h - float64(lo)
		if lo+1 >= n || f == 0 || side(lo) == side(lo+1) {
			return side(lo)
		}
		// x[lo] <= t <= x[lo+1], one of them strictly: interpolate.
		a, b := t, t
		if side(lo) < 0 {
			a = maxBelow
		}
		if side(lo+1) > 0 {
			b = minAbove
		}
		return cmpFloat(a+f*(b-a), t)
	}
	frac := sampleFrac(buckets)
	var total, wBelow, wEqual float64
	for i := range buckets {
		b := &buckets[i]
		n := prefix(frac, len(b.samples))
		if n == 0 {
			continue
		}
		w := float64(b.values) / float64(n)
		for _, v := range b.samples[:n] {
			switch {
			case v < t:
				wBelow += w
			case v == t:
				wEqual += w
			}
		}
		total += float64(b.values)
	}
	target := q * total
	switch {
	case wBelow >= target:
		return -1
	case wBelow+wEqual >= target:
		return 0
	}
	return 1
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// orderedBits maps a float64 to a uint64 that orders the same way.
func orderedBits(v float64) uint64 {
	b := math.Float64bits(v)
	if b>>63 != 0 {
		return ^b
	}
	return b | 1<<63
}

// fromOrderedBits inverts orderedBits.
func fromOrderedBits(b uint64) float64 {
	if b>>63 != 0 {
		return math.Float64frombits(b &^ (1 << 63))
	}
	return math.Float64frombits(^b)
}

// quantile returns the q-quantile of sorted values by linear interpolation
// between the closest ranks (numpy's default, type 7 of Hyndman and Fan):
// one value is every quantile of itself.
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	h := q * float64(len(sorted)-1)
	lo := int(h)
	if lo+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
}

// weightedQuantile returns the smallest sampled value whose cumulative
// weight reaches q of the total; keys are sorted samples whose low bits
// (mask) index their weight in wts.
func weightedQuantile(keys []uint64, wts []float64, mask uint64, total, q float64) float64 {
	target := q * total
	var cum float64
	for _, k := range keys {
		cum += wts[k&mask]
		if cum >= target {
			return fromOrderedBits(k &^ mask)
		}
	}
	return fromOrderedBits(keys[len(keys)-1] &^ mask)
}
