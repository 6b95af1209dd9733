package jsonlsink_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/sink/jsonlsink"
)

func ExampleNew() {
	dir, err := os.MkdirTemp("", "jsonlsink-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	// Missing directories are created.
	sink, err := jsonlsink.New(filepath.Join(dir, "stagetrace-out", "runs.jsonl"),
		jsonlsink.WithMaxSize(64<<20), jsonlsink.WithMaxBackups(2))
	if err != nil {
		fmt.Println(err)
		return
	}
	err = sink.Write(ctx, stagetrace.Batch{
		Spans:  []stagetrace.StageSpan{{RunID: "run-1", Stage: "build", Name: "go build"}},
		Events: []stagetrace.TraceEvent{{RunID: "run-1", Stage: "build", Name: "stage_end"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := sink.Shutdown(ctx); err != nil {
		fmt.Println(err)
		return
	}

	f, err := os.Open(sink.Path())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	dec := stagetrace.NewDecoder(f)
	for {
		rec, err := dec.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		if rec.Span != nil {
			fmt.Println("span", rec.Span.RunID, rec.Span.Stage, rec.Span.Name)
		} else {
			fmt.Println("event", rec.Event.RunID, rec.Event.Stage, rec.Event.Name)
		}
	}
	// Output:
	// span run-1 build go build
	// event run-1 build stage_end
}
