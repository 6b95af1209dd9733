package main

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stagetrace/stagetrace/internal/chromiumtest"
)

// screenshotDirEnv names a directory to keep the browser test's
// screenshots in, to look at them; otherwise they go to a temporary one.
const screenshotDirEnv = "STAGETRACE_SCREENSHOT_DIR"

// TestServeUIInChromium opens the UI of a real serve in a real headless
// Chromium, sends a run from the Go SDK's OTLP/HTTP exporter, and checks
// that the run appears in the open runs list without a reload within 2 s
// of the flush, with its token total; then clicks to the run (stage
// names and tokens in the DOM) and on to a span.
func TestServeUIInChromium(t *testing.T) {
	bin := chromiumtest.Path(t)
	s := startServe(t, "--db", filepath.Join(t.TempDir(), "runs.db"))
	browser := chromiumtest.Launch(t, bin)
	page := browser.Open(t, "http://"+s.ui+"/")
	require.Eventually(t, func() bool { return page.String(`document.readyState`) == "complete" }, 30*time.Second, 50*time.Millisecond)
	var n int
	require.NoError(t, page.Eval(`document.querySelectorAll("tr.run").length`, &n))
	require.Zero(t, n, "the store starts empty")

	ctx := context.Background()
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(s.http), otlptracehttp.WithInsecure())
	require.NoError(t, err)
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "chatbot"))), sdktrace.WithBatcher(exp))
	pipeline(tp, "run-live")
	require.NoError(t, tp.ForceFlush(ctx))
	flushed := time.Now()
	require.NoError(t, tp.Shutdown(ctx))

	row := `document.querySelector('tr.run[data-run-id="run-live"]')`
	require.Eventually(t, func() bool { return page.String(row+`?.dataset.runId ?? ""`) == "run-live" }, 2*time.Second, 20*time.Millisecond,
		"the run did not appear in the open page within 2s of the flush")
	t.Logf("the run appeared %v after the flush", time.Since(flushed).Round(time.Millisecond))
	assert.Equal(t, "907", page.String(row+`.dataset.totalTokens`), "812 in + 95 out")
	assert.Equal(t, "812", page.String(row+`.children[6].textContent`))
	shot(t, page, "runs.png")

	// Click through to the run.
	require.NoError(t, page.Eval(row+`.querySelector("a").click()`, nil))
	require.Eventually(t, func() bool {
		return page.String(`location.pathname`) == "/runs/run-live" && page.String(`document.readyState`) == "complete"
	}, 10*time.Second, 20*time.Millisecond)
	var stages []string
	require.NoError(t, page.Eval(`[...new Set([...document.querySelectorAll("#report [data-stage]")].map(e => e.dataset.stage).filter(s => s))].sort()`, &stages))
	assert.Equal(t, []string{"chat", "retrieval"}, stages)
	assert.Equal(t, "907", page.String(`document.querySelector("#summary").dataset.totalTokens`))
	var styled bool
	require.NoError(t, page.Eval(`getComputedStyle(document.querySelector("nav")).borderBottomStyle === "solid"`, &styled))
	assert.True(t, styled, "the style sheets load under the Content-Security-Policy")
	shot(t, page, "run.png")

	// And on to a span.
	require.NoError(t, page.Eval(`[...document.querySelectorAll("#spans-table a")].find(a => a.textContent === "chat gpt-4o").click()`, nil))
	require.Eventually(t, func() bool {
		return page.String(`document.querySelector("#span-name")?.textContent ?? ""`) == "chat gpt-4o"
	}, 10*time.Second, 20*time.Millisecond)
	assert.Equal(t, "chat turn", page.String(`document.querySelector("#parent").textContent`))
	shot(t, page, "span.png")
}

// shot saves a screenshot of page and checks it is a page, not a blank.
func shot(t *testing.T, page *chromiumtest.Page, name string) {
	t.Helper()
	data, err := page.Screenshot()
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(data))
	require.NoError(t, err)
	colours := map[uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 4 {
		for x := b.Min.X; x < b.Max.X; x += 4 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[r>>8<<16|g>>8<<8|bl>>8] = true
		}
	}
	assert.Greater(t, len(colours), 8, "%s is not one colour", name)
	dir := os.Getenv(screenshotDirEnv)
	if dir == "" {
		dir = t.TempDir()
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
}
