-- vigil registry, schema 2: registered models, immutable versions, moving aliases, audit log.

CREATE TABLE registered_models (
    name          TEXT   NOT NULL PRIMARY KEY,
    description   TEXT   NOT NULL,
    created_at_ms BIGINT NOT NULL,
    -- The next version number to hand out. Incremented in the registering transaction, so the
    -- row lock serialises registrations and a rolled-back registration leaves no gap.
    next_version  BIGINT NOT NULL,
    -- The next alias audit sequence number, incremented the same way.
    next_audit    BIGINT NOT NULL
);

CREATE TABLE model_versions (
    model             TEXT   NOT NULL REFERENCES registered_models (name),
    version           BIGINT NOT NULL CHECK (version >= 1),
    run_id            TEXT   REFERENCES runs (id),
    spec_json         TEXT   NOT NULL,
    state_artifact    TEXT   NOT NULL,
    threshold         DOUBLE PRECISION NOT NULL,
    alert_policy_json TEXT   NOT NULL,
    description       TEXT   NOT NULL,
    created_by        TEXT   NOT NULL,
    created_at_ms     BIGINT NOT NULL,
    PRIMARY KEY (model, version)
);
CREATE INDEX model_versions_by_run ON model_versions (run_id);

CREATE TABLE version_artifacts (
    model   TEXT   NOT NULL,
    version BIGINT NOT NULL,
    name    TEXT   NOT NULL,
    sha256  TEXT   NOT NULL REFERENCES artifacts (sha256),
    PRIMARY KEY (model, version, name),
    FOREIGN KEY (model, version) REFERENCES model_versions (model, version)
);
CREATE INDEX version_artifacts_by_sha ON version_artifacts (sha256);

-- value NULL stands for NaN, as in run_metrics.
CREATE TABLE version_metrics (
    model   TEXT   NOT NULL,
    version BIGINT NOT NULL,
    key     TEXT   NOT NULL,
    value   DOUBLE PRECISION,
    PRIMARY KEY (model, version, key),
    FOREIGN KEY (model, version) REFERENCES model_versions (model, version)
);

CREATE TABLE version_datasets (
    model       TEXT   NOT NULL,
    version     BIGINT NOT NULL,
    fingerprint TEXT   NOT NULL REFERENCES datasets (fingerprint),
    role        TEXT   NOT NULL,
    PRIMARY KEY (model, version, fingerprint, role),
    FOREIGN KEY (model, version) REFERENCES model_versions (model, version)
);

CREATE TABLE model_aliases (
    model         TEXT   NOT NULL,
    alias         TEXT   NOT NULL,
    version       BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    PRIMARY KEY (model, alias),
    FOREIGN KEY (model, version) REFERENCES model_versions (model, version)
);

-- Every alias move, forever. to_version NULL records a removal.
CREATE TABLE alias_audit (
    model        TEXT   NOT NULL REFERENCES registered_models (name),
    seq          BIGINT NOT NULL,
    alias        TEXT   NOT NULL,
    from_version BIGINT,
    to_version   BIGINT,
    moved_by     TEXT   NOT NULL,
    reason       TEXT   NOT NULL,
    moved_at_ms  BIGINT NOT NULL,
    PRIMARY KEY (model, seq)
);
