package report_test

import (
	"bytes"
	"image"
	"image/png"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace/internal/chromiumtest"
	"github.com/stagetrace/stagetrace/report"
)

func chromium(t *testing.T) string { return chromiumtest.Path(t) }

// headless runs chromium headless on the file with args, as a person's
// browser would open it from disk, and returns its standard output.
func headless(t *testing.T, bin, file string, args ...string) []byte {
	t.Helper()
	u := url.URL{Scheme: "file", Path: file}
	return chromiumtest.Headless(t, bin, u.String(), args...)
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
