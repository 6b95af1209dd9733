package stagetraceexporter

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/internal/pgtest"
	"github.com/stagetrace/stagetrace/sink/postgressink"
)

// TestPostgresConfigFromEnv resolves testdata/config.yaml as the collector
// does, ${env:...} included: the password comes from the environment, and
// neither the marshalled configuration nor a validation error shows it.
func TestPostgresConfigFromEnv(t *testing.T) {
	t.Setenv("STAGETRACE_PG_PASSWORD", "s3cret")
	resolver, err := confmap.NewResolver(confmap.ResolverSettings{
		URIs:              []string{"file:" + filepath.Join("testdata", "config.yaml")},
		ProviderFactories: []confmap.ProviderFactory{fileprovider.NewFactory(), envprovider.NewFactory()},
	})
	require.NoError(t, err)
	cm, err := resolver.Resolve(context.Background())
	require.NoError(t, err)
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	sub, err := cm.Sub("stagetrace/postgres")
	require.NoError(t, err)
	require.NoError(t, sub.Unmarshal(cfg))
	require.NoError(t, confmap.Validate(cfg))
	require.NotNil(t, cfg.Postgres)
	assert.Equal(t, "postgres://stagetrace:s3cret@db.internal:5432/traces?sslmode=require", string(cfg.Postgres.URL))
	assert.Equal(t, 720*time.Hour, cfg.Postgres.TTL)
	assert.Equal(t, 4, cfg.Postgres.MaxConns)

	out := confmap.New()
	require.NoError(t, out.Marshal(cfg))
	assert.NotContains(t, out.ToStringMap()["postgres"], "s3cret", "the collector prints the URL masked")

	cfg.Postgres.URL = "mysql://stagetrace:s3cret@db/x"
	err = cfg.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "postgres.url")
	assert.NotContains(t, err.Error(), "s3cret")
}

func TestPostgresValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   PostgresConfig
		field string
	}{
		{"url", PostgresConfig{}, "postgres.url"},
		{"ttl", PostgresConfig{URL: "postgres://h/db", TTL: -time.Second}, "postgres.ttl"},
		{"conns", PostgresConfig{URL: "postgres://h/db", MaxConns: 1}, "postgres.max_conns"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := (&Config{Postgres: &tc.cfg}).Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.field)
		})
	}
	assert.NoError(t, (&Config{Postgres: &PostgresConfig{URL: "postgresql://h/db"}}).Validate(), "postgres alone is a sink")
}

// TestExportToPostgres runs the exporter against a real server: the spans
// are in the database, and a failed start does not print the password.
func TestExportToPostgres(t *testing.T) {
	url := pgtest.URL(t)
	f := NewFactory()
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	cfg.Postgres = &PostgresConfig{URL: configopaque.String(url), TTL: 24 * 365 * time.Hour}
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	e, err := f.CreateTraces(context.Background(), exportertest.NewNopSettings(f.Type()), cfg)
	require.NoError(t, err)
	require.NoError(t, e.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, e.ConsumeTraces(context.Background(), traces(3)))
	require.NoError(t, e.ConsumeTraces(context.Background(), traces(3)), "a batch delivered twice")
	require.NoError(t, e.Shutdown(context.Background()))

	st, err := postgressink.OpenReadOnly(context.Background(), url)
	require.NoError(t, err)
	defer st.Close()
	run, err := st.Run(context.Background(), "run-1")
	require.NoError(t, err)
	assert.Equal(t, 3, run.Spans, "stored once")
	spans, err := st.Trace(context.Background(), stagetrace.TraceID{1})
	require.NoError(t, err)
	assert.Len(t, spans, 3)

	cfg.Postgres.URL = "postgres://u:s3cret@/db?host=/nonexistent&connect_timeout=2"
	e, err = f.CreateTraces(context.Background(), exportertest.NewNopSettings(f.Type()), cfg)
	require.NoError(t, err)
	err = e.Start(context.Background(), componenttest.NewNopHost())
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cret")
	require.NoError(t, e.Shutdown(context.Background()))
}
