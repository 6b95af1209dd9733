// Package jsonlsink provides a [stagetrace.Sink] that appends records to a
// file as JSON lines, one span or event per line, in the form written by
// [stagetrace.Encoder] and read back by [stagetrace.NewDecoder].
//
//	sink, err := jsonlsink.New("stagetrace-out/runs.jsonl")
//	if err != nil {
//		return err
//	}
//	defer sink.Shutdown(context.Background())
//
// # Durability
//
// Each [Sink.Write] encodes its whole batch, spans first and then events,
// and hands it to the operating system in one write, so once Write returns
// every line of the batch is in the file: other processes can read it, and
// it survives a crash of the writing process. Lines of batches written
// concurrently never mix. [Sink.ForceFlush] and [Sink.Shutdown] also sync
// the file to disk, so the lines survive a crash of the machine;
// [WithSyncOnWrite] does that on every Write.
//
// Because an OpenTelemetry BatchSpanProcessor exports synchronously inside
// TracerProvider.ForceFlush, every span ended before ForceFlush is in the
// file when ForceFlush returns.
//
// # Torn lines
//
// A crash in the middle of a write can leave the file ending with part of
// a line. [New] finds such a torn tail, by reading backwards from the end of
// the file, and cuts it off so that new lines are never appended to it (see
// [WithTornLinePolicy] to keep a copy). Only that case is repaired: a file
// whose last line is complete is never changed, even if the line is not
// valid JSON.
//
// # One writer per file
//
// A sink holds an exclusive advisory lock (flock) on its file while it is
// open, so a torn tail it repairs is never another writer's write in
// progress. [New] fails at once with an error wrapping [ErrInUse] when
// another sink, in this process or another, holds the file; it does not
// wait. The lock goes away when the sink shuts down or its process ends.
// Readers take no lock and can read the file at any time.
//
// # Rotation
//
// With [WithMaxSize], the file is rotated before a write that would make it
// larger than the limit: "runs.jsonl" becomes "runs.jsonl.1", an older
// "runs.jsonl.1" becomes "runs.jsonl.2", and so on up to
// [WithMaxBackups] files; the oldest is deleted. The new file is locked
// as the first one was. A batch is never split across files.
//
// # Preallocation
//
// The sink asks the file system to reserve the file's next blocks, 4 MiB
// at a time ([WithPreallocate]), before it appends to them: on Linux file
// systems such as ext4 and XFS an append into reserved blocks costs the
// kernel about a quarter less CPU than one that allocates as it goes, and
// that write is a fifth of what exporting a span costs. The reservation
// lies past the end of the file (FALLOC_FL_KEEP_SIZE), so the file's size
// is always that of its lines, and readers see nothing of it; it shows
// only as disk usage (du), up to the preallocation size more than the
// file's size. Rotation and [Sink.Shutdown] give the reserved blocks back;
// after a crash they stay with the file until a sink that preallocates
// writes to it again and shuts down, or until [New] cuts a torn line off
// it. Where the file system cannot reserve blocks, or on systems other
// than Linux, the sink appends as usual; a reservation that fails (a full
// disk) turns preallocation off for the sink's life, with a warning.
//
// # Files and directories
//
// New creates missing parent directories with mode [DirMode] (0750), so a
// path like "stagetrace-out/runs.jsonl" works without preparation, and
// creates the file with mode [DefaultFileMode] (0600) unless
// [WithFileMode] says otherwise. The path must name a regular file.
package jsonlsink
