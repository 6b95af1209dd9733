package redact_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/redact"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const mask = redact.DefaultMask

func allPresets(t testing.TB) *redact.Redactor {
	t.Helper()
	r, err := redact.New(redact.Config{Presets: redact.PresetNames()})
	require.NoError(t, err)
	return r
}

func TestPresetNames(t *testing.T) {
	assert.Equal(t, []string{"api_keys", "bearer_tokens", "card_numbers", "emails"}, redact.PresetNames())
}

func TestPresetsOnRealisticValues(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		// API keys.
		{"openai project key", `client = OpenAI(api_key="sk-proj-4fJ8kQz2Lm9XvB7nR1tY6wPa3Hc5Ue0Gd2Ks8Nq")`, `client = OpenAI(api_key="` + mask + `")`},
		{"anthropic key", "ANTHROPIC_API_KEY=sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcdEFGH", "ANTHROPIC_API_KEY=" + mask},
		{"aws access key id", "aws_access_key_id = AKIAIOSFODNN7EXAMPLE", "aws_access_key_id = " + mask},
		{"aws temporary key id", "ASIAY34FZKBOKMUTVV7A was used", mask + " was used"},
		{"github classic token", "token ghp_16C7e42F292c6912E7710c838347Ae178B4a rejected", "token " + mask + " rejected"},
		{"github fine-grained token", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123", mask},
		{"slack bot token", "SLACK_BOT_TOKEN: xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "SLACK_BOT_TOKEN: " + mask},
		{"google api key", "key=AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe&q=x", "key=" + mask + "&q=x"},
		// Bearer tokens.
		{"bearer header", "Authorization: Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0", "Authorization: Bearer " + mask},
		{"bearer lower case", "authorization: bearer abc.DEF-ghi_jkl~mno+pqr/stu==", "authorization: bearer " + mask},
		{"raw jwt", `{"id_token":"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"}`, `{"id_token":"` + mask + `"}`},
		// Emails.
		{"email in text", "escalated to jane.doe+ml@example.co.uk by the agent", "escalated to " + mask + " by the agent"},
		{"two emails", "from a@b.io to ops-team@corp.example.com", "from " + mask + " to " + mask},
		// Card numbers.
		{"visa with spaces", "card 4111 1111 1111 1111 exp 12/27", "card " + mask + " exp 12/27"},
		{"mastercard with dashes", "5555-5555-5555-4444", mask},
		{"amex 15 digits", "amex:378282246310005.", "amex:" + mask + "."},
		{"visa 13 digits", "old card 4222222222222", "old card " + mask},
		{"discover in json", `{"pan":"6011111111111117"}`, `{"pan":"` + mask + `"}`},
		{"card after another number", "qty 2 4111 1111 1111 1111", "qty 2 " + mask},
		{"card before a word with digits", "paid 4111 1111 1111 1111 1st try", "paid " + mask + " 1st try"},
		// Not secrets: must stay as they are.
		{"non-luhn 16 digits", "order 4111 1111 1111 1112 shipped", "order 4111 1111 1111 1112 shipped"},
		{"non-luhn 16 digits plain", "ref 5555555555554445", "ref 5555555555554445"},
		{"epoch millis", "ts=1718208000000", "ts=1718208000000"},
		{"luhn-valid number starting with 1", "id 1000000000000009", "id 1000000000000009"},
		{"23-digit id", "trace 41111111111111111111111", "trace 41111111111111111111111"},
		{"card glued to letters", "sku4111111111111111x", "sku4111111111111111x"},
		{"iso date", "2025-06-01 12:00:00", "2025-06-01 12:00:00"},
		{"words with sk-", "a risk-free ask-me-anything", "a risk-free ask-me-anything"},
		{"short sk-", "sk-123", "sk-123"},
		{"bearer as a word", "the bearer of bad news", "the bearer of bad news"},
		{"at sign alone", "meet @ noon, user@localhost", "meet @ noon, user@localhost"},
		{"plain prompt", "Summarize the quarterly report in three bullet points.", "Summarize the quarterly report in three bullet points."},
	}
	r := allPresets(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed := r.RedactString(tt.in)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.in != tt.want, changed)
		})
	}
}

func TestPresetsAreIndependent(t *testing.T) {
	r, err := redact.New(redact.Config{Presets: []string{redact.PresetEmails}})
	require.NoError(t, err)
	got, _ := r.RedactString("jane@example.com paid with 4111 1111 1111 1111 using AKIAIOSFODNN7EXAMPLE")
	assert.Equal(t, mask+" paid with 4111 1111 1111 1111 using AKIAIOSFODNN7EXAMPLE", got)
}

func TestCustomPatternsAndMask(t *testing.T) {
	r, err := redact.New(redact.Config{Patterns: []string{`\bcust-[0-9]{6}\b`, `(?i)password=\S+`}, Mask: "***"})
	require.NoError(t, err)
	got, changed := r.RedactString("cust-123456 logged in with PASSWORD=hunter2 (cust-12345 is too short)")
	assert.True(t, changed)
	assert.Equal(t, "*** logged in with *** (cust-12345 is too short)", got)
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := map[string]redact.Config{
		"unknown preset": {Presets: []string{"ssn"}},
		"bad pattern":    {Patterns: []string{`(unclosed`}},
		"empty allow":    {Allow: []string{""}},
		"empty deny":     {Deny: []string{"ok", ""}},
	}
	for name, cfg := range tests {
		t.Run(name, func(t *testing.T) {
			r, err := redact.New(cfg)
			require.Error(t, err)
			assert.Nil(t, r)
			assert.True(t, strings.HasPrefix(err.Error(), "redact: "), err.Error())
		})
	}
}

func str(s string) stagetrace.Value { return stagetrace.StringValue(s) }

func count(t *testing.T, attrs stagetrace.Attrs) int64 {
	t.Helper()
	v, ok := attrs.Get(string(attributes.RedactedCount))
	if !ok {
		return 0
	}
	require.Equal(t, stagetrace.KindInt64, v.Kind())
	return v.AsInt64()
}

func TestKeyLists(t *testing.T) {
	attrs := stagetrace.Attrs{
		{Key: "http.request.header.authorization", Value: str("Basic dXNlcjpwYXNz")},
		{Key: "http.request.header.accept", Value: str("application/json")},
		{Key: "llm.api_key", Value: str("not-a-known-shape")},
		{Key: "gen_ai.request.model", Value: str("gpt-4o")},
		{Key: "llm.retries", Value: stagetrace.IntValue(3)},
		{Key: "llm.config", Value: stagetrace.MapValue(
			stagetrace.Attr{Key: "api_key", Value: str("abc123")},
			stagetrace.Attr{Key: "temperature", Value: stagetrace.Float64Value(0.2)},
		)},
		{Key: string(attributes.MetricValue), Value: stagetrace.Float64Value(41.5)},
	}
	tests := []struct {
		name   string
		cfg    redact.Config
		masked []string
	}{
		{"deny globs", redact.Config{Deny: []string{"http.request.header.*", "*.api_key"}},
			[]string{"http.request.header.authorization", "http.request.header.accept", "llm.api_key", "llm.config"}},
		{"deny exact", redact.Config{Deny: []string{"llm.retries"}}, []string{"llm.retries"}},
		{"allow", redact.Config{Allow: []string{"gen_ai.*", "http.request.header.accept", "llm.config"}},
			[]string{"http.request.header.authorization", "llm.api_key", "llm.retries"}},
		{"deny wins over allow", redact.Config{Allow: []string{"*"}, Deny: []string{"*.authorization"}},
			[]string{"http.request.header.authorization"}},
		{"allow, deny inside an allowed map", redact.Config{Allow: []string{"llm.config"}, Deny: []string{"*.api_key"}},
			[]string{"http.request.header.authorization", "http.request.header.accept", "llm.api_key", "gen_ai.request.model", "llm.retries", "llm.config"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := redact.New(tt.cfg)
			require.NoError(t, err)
			b := stagetrace.Batch{Spans: []stagetrace.StageSpan{{Name: "chat", Attrs: attrs}}}
			n := r.Batch(&b)
			got := b.Spans[0].Attrs
			changed := map[string]bool{}
			for i, a := range attrs {
				require.Equal(t, a.Key, got[i].Key, "keys keep their order")
				if !a.Value.Equal(got[i].Value) {
					changed[a.Key] = true
				}
			}
			var keys []string
			for _, a := range attrs {
				if changed[a.Key] {
					keys = append(keys, a.Key)
				}
			}
			assert.Equal(t, tt.masked, keys)
			assert.Equal(t, len(tt.masked), n)
			assert.Equal(t, int64(n), count(t, got))
			v, _ := got.Get(string(attributes.MetricValue))
			assert.Equal(t, 41.5, v.AsFloat64(), "an allow list never masks stagetrace's metric keys")
		})
	}
}

func TestMaskInsideMapsKeepsTheRest(t *testing.T) {
	r, err := redact.New(redact.Config{Deny: []string{"*.api_key"}})
	require.NoError(t, err)
	b := stagetrace.Batch{Spans: []stagetrace.StageSpan{{Attrs: stagetrace.Attrs{{Key: "llm.config", Value: stagetrace.MapValue(
		stagetrace.Attr{Key: "api_key", Value: str("abc123")},
		stagetrace.Attr{Key: "temperature", Value: stagetrace.Float64Value(0.2)},
	)}}}}}
	require.Equal(t, 1, r.Batch(&b))
	m := b.Spans[0].Attrs[0].Value.AsMap()
	assert.True(t, m.Equal(stagetrace.Attrs{
		{Key: "api_key", Value: str(mask)},
		{Key: "temperature", Value: stagetrace.Float64Value(0.2)},
	}), "%#v", m)
}

func TestBatchRedactsEveryPlace(t *testing.T) {
	res := &stagetrace.Resource{Attrs: stagetrace.Attrs{
		{Key: "service.name", Value: str("support-bot")},
		{Key: "process.command_args", Value: stagetrace.StringSliceValue([]string{"bot", "--openai-key", "sk-proj-4fJ8kQz2Lm9XvB7nR1tY6wPa3Hc5Ue0Gd2Ks8Nq"})},
	}}
	b := stagetrace.Batch{
		Spans: []stagetrace.StageSpan{{
			Name:          "chat",
			StatusMessage: "401 for key AKIAIOSFODNN7EXAMPLE",
			Attrs: stagetrace.Attrs{
				{Key: "gen_ai.prompt", Value: str("email jane.doe@example.com about card 4111 1111 1111 1111")},
				{Key: "tags", Value: stagetrace.StringSliceValue([]string{"ok", "ghp_16C7e42F292c6912E7710c838347Ae178B4a"})},
				{Key: "mixed", Value: stagetrace.SliceValue(stagetrace.IntValue(1), str("bob@example.org"))},
				{Key: "tokens", Value: stagetrace.IntValue(812)},
			},
			Findings: stagetrace.Attrs{
				{Key: "answer", Value: str("write to help@example.com")},
				{Key: "input_tokens", Value: stagetrace.IntValue(800)},
			},
			Resource: res,
		}, {
			Name:     "clean",
			Attrs:    stagetrace.Attrs{{Key: "k", Value: str("nothing to see")}},
			Resource: res,
		}},
		Events: []stagetrace.TraceEvent{{
			Name:  "exception",
			Attrs: stagetrace.Attrs{{Key: "exception.message", Value: str("Authorization: Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0 rejected")}},
		}, {
			Name:  "log",
			Attrs: stagetrace.Attrs{{Key: "msg", Value: str("fine")}},
		}},
	}
	r := allPresets(t)
	n := r.Batch(&b)

	sp := b.Spans[0]
	prompt, _ := sp.Attrs.Get("gen_ai.prompt")
	assert.Equal(t, "email "+mask+" about card "+mask, prompt.AsString(), "one value, masked by two presets, counts once")
	tags, _ := sp.Attrs.Get("tags")
	assert.Equal(t, []string{"ok", mask}, tags.AsStringSlice())
	mixed, _ := sp.Attrs.Get("mixed")
	assert.True(t, mixed.Equal(stagetrace.SliceValue(stagetrace.IntValue(1), str(mask))))
	answer, _ := sp.Findings.Get("answer")
	assert.Equal(t, "write to "+mask, answer.AsString())
	assert.Equal(t, "401 for key "+mask, sp.StatusMessage)
	assert.Equal(t, int64(5), count(t, sp.Attrs), "prompt, tag, slice element, finding, status message")

	assert.Equal(t, int64(0), count(t, b.Spans[1].Attrs), "a clean span gets no count")
	assert.Same(t, sp.Resource, b.Spans[1].Resource, "spans still share one resource")
	args, _ := sp.Resource.Attrs.Get("process.command_args")
	assert.Equal(t, []string{"bot", "--openai-key", mask}, args.AsStringSlice())
	assert.Equal(t, int64(1), count(t, sp.Resource.Attrs))

	msg, _ := b.Events[0].Attrs.Get("exception.message")
	assert.Equal(t, "Authorization: Bearer "+mask+" rejected", msg.AsString())
	assert.Equal(t, int64(1), count(t, b.Events[0].Attrs))
	assert.Len(t, b.Events[1].Attrs, 1)

	assert.Equal(t, 5+1+1, n, "span values, the resource once, the event")
}

func TestSkipResources(t *testing.T) {
	res := &stagetrace.Resource{Attrs: stagetrace.Attrs{{Key: "owner", Value: str("ops@example.com")}}}
	r, err := redact.New(redact.Config{Presets: []string{redact.PresetEmails}, SkipResources: true})
	require.NoError(t, err)
	b := stagetrace.Batch{Spans: []stagetrace.StageSpan{{Resource: res}}}
	assert.Zero(t, r.Batch(&b))
	assert.Same(t, res, b.Spans[0].Resource)
}

func TestBatchNeverWritesSharedArrays(t *testing.T) {
	// Like the exporter, give every span a window of one attribute array,
	// with room after it: appending in place would overwrite the next span.
	backing := stagetrace.Attrs{
		{Key: "user.email", Value: str("a@example.com")},
		{Key: "n", Value: stagetrace.IntValue(1)},
		{Key: "user.email", Value: str("b@example.com")},
		{Key: "n", Value: stagetrace.IntValue(2)},
	}
	slice := []string{"c@example.com"}
	backing = append(backing, stagetrace.Attr{Key: "list", Value: stagetrace.StringSliceValue(slice)})
	res := &stagetrace.Resource{Attrs: stagetrace.Attrs{{Key: "owner", Value: str("ops@example.com")}}}
	original := stagetrace.Batch{Spans: []stagetrace.StageSpan{
		{Name: "a", Attrs: backing[0:2], Resource: res},
		{Name: "b", Attrs: backing[2:4], Resource: res},
		{Name: "c", Attrs: backing[4:5], Resource: res},
	}}
	snapshot := make(stagetrace.Attrs, len(backing))
	copy(snapshot, backing)
	resSnapshot := append(stagetrace.Attrs(nil), res.Attrs...)

	// The redacted batch is a copy of the batch value; other consumers keep
	// the original, which must not change.
	b := stagetrace.Batch{Spans: append([]stagetrace.StageSpan(nil), original.Spans...)}
	require.Equal(t, 3+1, allPresets(t).Batch(&b))

	assert.True(t, snapshot.Equal(backing), "the shared array is untouched")
	assert.Equal(t, []string{"c@example.com"}, slice, "the shared string slice is untouched")
	assert.True(t, resSnapshot.Equal(res.Attrs), "the shared resource is untouched")
	for i := range original.Spans {
		assert.True(t, original.Spans[i].Attrs.Equal(backing[2*i:min(2*i+2, 5)]))
		assert.Same(t, res, original.Spans[i].Resource)
	}
	v, _ := b.Spans[0].Attrs.Get("user.email")
	assert.Equal(t, mask, v.AsString())
	assert.Equal(t, int64(1), count(t, b.Spans[0].Attrs))
	assert.Equal(t, int64(1), count(t, b.Spans[1].Attrs))
}

func TestRedactingTwiceAddsNothing(t *testing.T) {
	res := &stagetrace.Resource{Attrs: stagetrace.Attrs{{Key: "owner", Value: str("ops@example.com")}}}
	b := stagetrace.Batch{Spans: []stagetrace.StageSpan{{Attrs: stagetrace.Attrs{{Key: "to", Value: str("x@example.com")}}, Resource: res}}}
	r := allPresets(t)
	require.Equal(t, 2, r.Batch(&b))
	assert.Zero(t, r.Batch(&b), "masked values hold no secret")
	assert.Equal(t, int64(1), count(t, b.Spans[0].Attrs))
	assert.Equal(t, int64(1), count(t, b.Spans[0].Resource.Attrs))

	// A new value in an already redacted record adds to its count.
	b.Spans[0].Attrs = append(b.Spans[0].Attrs, stagetrace.Attr{Key: "cc", Value: str("y@example.com")})
	require.Equal(t, 1, r.Batch(&b))
	assert.Equal(t, int64(2), count(t, b.Spans[0].Attrs))
}

func TestCleanBatchesCostNoAllocation(t *testing.T) {
	b := realisticBatch(64, 0)
	r := allPresets(t)
	allocs := testing.AllocsPerRun(20, func() {
		if n := r.Batch(&b); n != 0 {
			t.Fatalf("redacted %d values of a clean batch", n)
		}
	})
	assert.Zero(t, allocs)
}

func TestConcurrentBatches(t *testing.T) {
	r := allPresets(t)
	res := &stagetrace.Resource{Attrs: stagetrace.Attrs{{Key: "owner", Value: str("ops@example.com")}}}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				b := realisticBatch(8, 4)
				for i := range b.Spans {
					b.Spans[i].Resource = res
				}
				assert.Positive(t, r.Batch(&b))
				for _, sp := range b.Spans {
					owner, _ := sp.Resource.Attrs.Get("owner")
					assert.Equal(t, mask, owner.AsString())
				}
			}
		}()
	}
	wg.Wait()
}

// realisticBatch returns spans spans with LLM attributes; every secretEvery-th
// span carries an email and an API key (0: none does).
func realisticBatch(spans, secretEvery int) stagetrace.Batch {
	res := &stagetrace.Resource{Attrs: stagetrace.Attrs{
		{Key: "service.name", Value: str("rag-api")},
		{Key: "host.name", Value: str("ip-10-0-3-17")},
	}}
	start := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	var b stagetrace.Batch
	for i := range spans {
		prompt := fmt.Sprintf("Answer question %d using the retrieved passages about invoice 2025-06-%02d.", i, i%28+1)
		if secretEvery > 0 && i%secretEvery == 0 {
			prompt += " Contact jane.doe@example.com, key sk-proj-4fJ8kQz2Lm9XvB7nR1tY6wPa3Hc5Ue0Gd2Ks8Nq"
		}
		b.Spans = append(b.Spans, stagetrace.StageSpan{
			Name: "chat gpt-4o", StartTime: start, EndTime: start.Add(time.Second),
			Attrs: stagetrace.Attrs{
				{Key: "gen_ai.request.model", Value: str("gpt-4o")},
				{Key: "gen_ai.operation.name", Value: str("chat")},
				{Key: "gen_ai.prompt", Value: str(prompt)},
				{Key: "gen_ai.completion", Value: str("The invoice total is 1,284.50 EUR, due on 2025-07-01 (order 88412).")},
				{Key: "llm.temperature", Value: stagetrace.Float64Value(0.2)},
				{Key: "gen_ai.response.finish_reasons", Value: stagetrace.StringSliceValue([]string{"stop"})},
				{Key: "http.url", Value: str("https://api.openai.com/v1/chat/completions")},
			},
			Findings: stagetrace.Attrs{{Key: "input_tokens", Value: stagetrace.IntValue(812 + i)}},
			Resource: res,
		})
	}
	b.Events = append(b.Events, stagetrace.TraceEvent{Name: "metric", Attrs: stagetrace.Attrs{
		{Key: "metric.name", Value: str("time_to_first_token")},
		{Key: "metric.value", Value: stagetrace.Float64Value(41.5)},
	}})
	return b
}

func BenchmarkBatch(b *testing.B) {
	r := allPresets(b)
	for _, secretEvery := range []int{0, 10} {
		b.Run(fmt.Sprintf("secretEvery=%d", secretEvery), func(b *testing.B) {
			batch := realisticBatch(512, secretEvery)
			b.ReportAllocs()
			for b.Loop() {
				c := batch // Batch replaces slices; the originals are reused
				c.Spans = append(c.Spans[:0:0], batch.Spans...)
				r.Batch(&c)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*512), "ns/span")
		})
	}
}

func TestBatchRedactsLogBodies(t *testing.T) {
	r := allPresets(t)
	attrs := stagetrace.Attrs{{Key: "user", Value: str("x")}}
	b := stagetrace.Batch{Events: []stagetrace.TraceEvent{{
		Name:  stagetrace.LogEventName,
		Body:  str("retrying with key AKIAIOSFODNN7EXAMPLE for jane.doe@example.com"),
		Attrs: attrs,
	}, {
		Name: stagetrace.LogEventName,
		Body: stagetrace.MapValue(stagetrace.Attr{Key: "to", Value: str("bob@example.org")}, stagetrace.Attr{Key: "n", Value: stagetrace.IntValue(3)}),
	}, {
		Name: stagetrace.LogEventName,
		Body: str("nothing secret"),
	}}}
	require.Equal(t, 2, r.Batch(&b), "a body counts once, as any value")
	assert.Equal(t, "retrying with key "+mask+" for "+mask, b.Events[0].Body.AsString())
	assert.Equal(t, int64(1), count(t, b.Events[0].Attrs))
	assert.Len(t, attrs, 1, "the caller's attributes are not written")
	to, _ := b.Events[1].Body.AsMap().Get("to")
	assert.Equal(t, mask, to.AsString())
	assert.Equal(t, int64(1), count(t, b.Events[1].Attrs))
	assert.Equal(t, "nothing secret", b.Events[2].Body.AsString())
	assert.Nil(t, b.Events[2].Attrs)
}
