package report_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace/report"
)

// requireChromiumEnv makes a missing Chromium fail the browser tests
// rather than skip them; CI sets it.
const requireChromiumEnv = "STAGETRACE_REQUIRE_CHROMIUM"

// chromium returns the path of Debian's chromium, or skips the test
// loudly: the HTML checks above still run, but nobody has looked at the
// page in a browser.
func chromium(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err == nil {
		return path
	}
	msg := "!!! chromium not found: the report was NOT checked in a browser. Install it with `make chromium` (Debian's chromium package)."
	if os.Getenv(requireChromiumEnv) != "" {
		t.Fatalf("%s (%s is set)", msg, requireChromiumEnv)
	}
	fmt.Fprintln(os.Stderr, msg)
	t.Skip(msg)
	return ""
}

// headless runs chromium headless on the file with args, as a person's
// browser would open it from disk, and returns its standard output.
func headless(t *testing.T, bin, file string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(),
	}
	u := url.URL{Scheme: "file", Path: file}
	cmd := exec.CommandContext(ctx, bin, append(append(base, args...), u.String())...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	require.NoError(t, err, "chromium: %s", stderr.String())
	return stdout.Bytes()
}

func TestReportInChromium(t *testing.T) {
	bin := chromium(t)
	spans, events := fixture()
	dir := t.TempDir()
	file := filepath.Join(dir, "report.html")
	f, err := os.Create(file)
	require.NoError(t, err)
	require.NoError(t, report.Write(f, report.FromRecords(spans, events)))
	require.NoError(t, f.Close())

	t.Run("dom", func(t *testing.T) {
		dom := string(headless(t, bin, file, "--dump-dom"))
		require.Contains(t, dom, "<body", "chromium printed no DOM")
		checkRun(t, dom)
	})

	t.Run("screenshot", func(t *testing.T) {
		shot := filepath.Join(dir, "report.png")
		headless(t, bin, file, "--screenshot="+shot, "--window-size=1280,900", "--hide-scrollbars")
		data, err := os.ReadFile(shot)
		require.NoError(t, err, "no screenshot")
		img, err := png.Decode(bytes.NewReader(data))
		require.NoError(t, err)
		b := img.Bounds()
		assert.Equal(t, 1280, b.Dx())
		assert.Equal(t, 900, b.Dy())

		colours := map[[3]uint8]int{}
		for y := b.Min.Y; y < b.Max.Y; y += 2 {
			for x := b.Min.X; x < b.Max.X; x += 2 {
				colours[rgb(img, x, y)]++
			}
		}
		assert.Greater(t, len(colours), 16, "the page is not one colour")
		// The waterfall's bars are drawn: the failed call in red, the
		// others in green.
		assert.Positive(t, near(colours, [3]uint8{0xd6, 0x45, 0x45}), "no error bar")
		assert.Positive(t, near(colours, [3]uint8{0x2e, 0x9e, 0x5b}), "no ok bar")
	})
}

func rgb(img image.Image, x, y int) [3]uint8 {
	r, g, b, _ := img.At(x, y).RGBA()
	return [3]uint8{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)}
}

// near counts the pixels within a small distance of c.
func near(colours map[[3]uint8]int, c [3]uint8) int {
	n := 0
	for k, count := range colours {
		d := 0
		for i := range 3 {
			d += abs(int(k[i]) - int(c[i]))
		}
		if d <= 12 {
			n += count
		}
	}
	return n
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
