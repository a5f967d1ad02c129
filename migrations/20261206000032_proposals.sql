-- Proposals (issue 21 item 1.3): what the gun's rules rest on (licences, certificates, a
-- cylinder's use registration) is written by regulators only; an enterprise proposes such a
-- change with a reference to its document, and a regulator approves it (the change is then
-- made as the regulator's, with its revision naming the proposal) or rejects it with a reason.
-- `record_kind`/`record_key` as in `revisions`; `changes` the proposed fields {field: value}.
CREATE TABLE proposals (
    id              bigserial PRIMARY KEY,
    record_kind     text NOT NULL,
    record_key      text NOT NULL,
    enterprise_code text NOT NULL REFERENCES enterprises (code),
    changes         jsonb NOT NULL,
    document_ref    text NOT NULL,
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'approved', 'rejected')),
    proposed_by     text NOT NULL,
    proposed_at     timestamptz NOT NULL DEFAULT now(),
    decided_by      text,
    decided_at      timestamptz,
    decision_reason text,
    applied_version bigint
);
CREATE INDEX proposals_pending ON proposals (enterprise_code, id) WHERE status = 'pending';
