import { AppException } from '../../common/errors/app.exception';
import { CANONICAL_FIELDS, RawOpportunityRow } from '../ingestion/opportunity-row.parser';
import { mapRecord, resolveColumnMapping } from '../ingestion/column-mapping';

/** A cell as it arrives: a CSV cell (string) or a JSON value. */
export type Cell = string | number | boolean | null | undefined;

/** One source row after a profile has read it: canonical fields plus per-row rejection reasons. */
export interface ProfiledRow {
  row: RawOpportunityRow;
  /** Reasons found by the profile itself (e.g. an unknown dealstage id); empty when none. */
  reasons: string[];
}

/**
 * Stage mapping of one pipeline: the stage names / ids that count as won, lost and open. A stage
 * in none of the three lists is rejected per row (never guessed).
 */
export interface PipelineStageMap {
  won: string[];
  lost: string[];
  open: string[];
}

/** A named import profile: the columns it reads and how a record becomes a canonical row. */
export interface ImportProfile {
  name: ProfileName;
  /** Profile field → header names accepted for it (first match wins; case-insensitive). */
  columns: Record<string, string[]>;
  /** Profile fields that must have a column. */
  required: string[];
  /** Turns one record (profile field → cell) into a canonical row, or reasons to reject it. */
  toRow(fields: Record<string, Cell>): ProfiledRow;
}

export const PROFILE_NAMES = ['pilotlab', 'salesforce', 'hubspot', 'snapshot'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

const str = (v: Cell): string | null => {
  if (v === null || v === undefined) return null;
  const s = String(v).trim();
  return s === '' ? null : s;
};
/** Canonical value of a cell for the row parser: strings and numbers pass, booleans become text. */
const val = (v: Cell): string | number | null => (typeof v === 'number' ? v : str(v));

/** "true"/"false" (any case), "1"/"0", or a JSON boolean; null when empty; undefined when not a boolean. */
export function parseBooleanCell(v: Cell): boolean | null | undefined {
  if (typeof v === 'boolean') return v;
  const s = str(v);
  if (s === null) return null;
  const l = s.toLowerCase();
  if (l === 'true' || l === '1') return true;
  if (l === 'false' || l === '0') return false;
  return undefined;
}

/** The canonical stage ('Won' | 'Lost' | 'Open') of a stage under a pipeline's map; null when unknown. */
export function stageUnderMap(stage: string, map: PipelineStageMap): 'Won' | 'Lost' | 'Open' | null {
  const s = stage.trim().toLowerCase();
  const has = (list: string[]) => list.some((x) => x.trim().toLowerCase() === s);
  if (has(map.won)) return 'Won';
  if (has(map.lost)) return 'Lost';
  if (has(map.open)) return 'Open';
  return null;
}

/** Today's format (the Maven CRM sample and PilotLab's own names): the default profile, unchanged. */
const pilotlab: ImportProfile = {
  name: 'pilotlab',
  columns: {},
  required: ['opportunity_id'],
  toRow: (fields) => ({ row: Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, val(v)])) as RawOpportunityRow, reasons: [] }),
};

/**
 * Salesforce Opportunity export (Data Loader / report export). Status comes from IsClosed/IsWon
 * when present (closed+won = won, closed+not won = lost, not closed = open); without them the
 * StageName goes through PilotLab's stage names (Closed Won, Closed Lost, Prospecting, ...).
 * The territory is the Territory2 association (Territory2.Name, or Territory2Id).
 */
const salesforce: ImportProfile = {
  name: 'salesforce',
  columns: {
    opportunity_id: ['Id', 'OpportunityId'],
    stage: ['StageName'],
    amount: ['Amount'],
    close_date: ['CloseDate'],
    created_at: ['CreatedDate'],
    source_updated_at: ['SystemModstamp', 'LastModifiedDate'],
    is_won: ['IsWon'],
    is_closed: ['IsClosed'],
    owner: ['OwnerId'],
    territory: ['Territory2.Name', 'Territory2Name', 'Territory2Id'],
    account: ['Account.Name', 'AccountName', 'AccountId'],
    product: ['Product2.Name', 'ProductName'],
  },
  required: ['opportunity_id', 'stage', 'territory'],
  toRow(f) {
    const reasons: string[] = [];
    const won = parseBooleanCell(f.is_won);
    const closed = parseBooleanCell(f.is_closed);
    if (won === undefined) reasons.push(`IsWon '${str(f.is_won)}' is not true/false`);
    if (closed === undefined) reasons.push(`IsClosed '${str(f.is_closed)}' is not true/false`);
    let stage: string | null = str(f.stage);
    if (typeof closed === 'boolean') {
      if (won === true && !closed) reasons.push('IsWon is true but IsClosed is false');
      stage = closed ? (won ? 'Won' : 'Lost') : 'Open';
    }
    // A closed Salesforce opportunity has a CloseDate; an open one has an expected CloseDate, which is not a close.
    const closeDate = stage === 'Open' ? null : val(f.close_date);
    return {
      row: {
        opportunity_id: val(f.opportunity_id),
        territory: val(f.territory),
        stage,
        amount: val(f.amount),
        close_date: closeDate,
        created_at: val(f.created_at),
        source_updated_at: val(f.source_updated_at),
        owner: val(f.owner),
        account: val(f.account),
        product: val(f.product),
      },
      reasons,
    };
  },
};

/**
 * HubSpot's default sales pipeline ("default"): its internal dealstage ids. Other pipelines have
 * their own ids; their map is given per source (stage_mapping), else their rows are rejected.
 */
export const HUBSPOT_DEFAULT_PIPELINE: PipelineStageMap = {
  won: ['closedwon'],
  lost: ['closedlost'],
  open: ['appointmentscheduled', 'qualifiedtobuy', 'presentationscheduled', 'decisionmakerboughtin', 'contractsent'],
};

/** HubSpot stage mapping per pipeline id. */
export type StageMappingByPipeline = Record<string, PipelineStageMap>;

/**
 * HubSpot deals export (CRM export or the v3 deals API, properties flattened). Status: the
 * dealstage id under its pipeline's stage map; hs_is_closed_won ("true"/"false" strings) must
 * agree when given. Open deals carry an expected closedate, which is not a close: it is dropped.
 */
export function hubspotProfile(stageMaps: StageMappingByPipeline = { default: HUBSPOT_DEFAULT_PIPELINE }): ImportProfile {
  return {
    name: 'hubspot',
    columns: {
      opportunity_id: ['Record ID', 'hs_object_id', 'id'],
      stage: ['Deal Stage', 'dealstage'],
      pipeline: ['Pipeline', 'pipeline'],
      amount: ['Amount', 'amount'],
      close_date: ['Close Date', 'closedate'],
      created_at: ['Create Date', 'createdate'],
      source_updated_at: ['Last Modified Date', 'hs_lastmodifieddate'],
      owner: ['Deal owner', 'hubspot_owner_id'],
      territory: ['territory', 'hs_territory', 'Territory'],
      is_closed_won: ['Is Closed Won', 'hs_is_closed_won'],
      account: ['Associated Company', 'company'],
    },
    required: ['opportunity_id', 'stage', 'territory'],
    toRow(f) {
      const reasons: string[] = [];
      const pipeline = str(f.pipeline) ?? 'default';
      const raw = str(f.stage);
      let stage: string | null = null;
      const map = stageMaps[pipeline];
      if (raw) {
        if (!map) reasons.push(`pipeline '${pipeline}' has no stage mapping (mapped: ${Object.keys(stageMaps).join(', ')})`);
        else {
          stage = stageUnderMap(raw, map);
          if (!stage) reasons.push(`unknown dealstage '${raw}' in pipeline '${pipeline}'`);
        }
      }
      const closedWon = parseBooleanCell(f.is_closed_won);
      if (closedWon === undefined) reasons.push(`hs_is_closed_won '${str(f.is_closed_won)}' is not "true"/"false"`);
      else if (closedWon !== null && stage && closedWon !== (stage === 'Won')) {
        reasons.push(`hs_is_closed_won is ${closedWon} but dealstage '${raw}' is ${stage.toLowerCase()}`);
      }
      return {
        row: {
          opportunity_id: val(f.opportunity_id),
          territory: val(f.territory),
          stage: raw ? stage ?? raw : null,
          amount: val(f.amount),
          close_date: stage === 'Open' ? null : val(f.close_date),
          created_at: val(f.created_at),
          source_updated_at: val(f.source_updated_at),
          owner: val(f.owner),
          account: val(f.account),
        },
        reasons,
      };
    },
  };
}

/**
 * Warehouse snapshot table: one row per opportunity per day (snapshot_date). Every snapshot row is
 * staged with its snapshot day as the version (source_updated_at = snapshot_date at 00:00 UTC), so
 * the ingestion's newest-version-wins rule keeps the latest snapshot of each opportunity.
 */
const snapshot: ImportProfile = {
  name: 'snapshot',
  columns: {
    snapshot_date: ['snapshot_date', 'as_of', 'ds'],
    opportunity_id: ['opportunity_id', 'id'],
    territory: ['territory', 'territory_code'],
    stage: ['stage'],
    amount: ['amount'],
    engage_date: ['engage_date'],
    close_date: ['close_date'],
    created_at: ['created_at'],
    owner: ['owner', 'owner_id'],
    product: ['product'],
    account: ['account'],
  },
  required: ['snapshot_date', 'opportunity_id'],
  toRow(f) {
    const reasons: string[] = [];
    const day = str(f.snapshot_date);
    let version: string | null = null;
    if (!day) reasons.push('snapshot_date is missing');
    else if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) reasons.push(`snapshot_date '${day}' is not a date YYYY-MM-DD`);
    else version = `${day}T00:00:00Z`;
    const row: RawOpportunityRow = {};
    for (const k of CANONICAL_FIELDS) if (k in f) row[k] = val(f[k]);
    row.source_updated_at = version;
    return { row, reasons };
  },
};

/**
 * The named profile. @throws UNKNOWN_IMPORT_PROFILE (400) for any other name.
 * @param stageMaps HubSpot stage mapping per pipeline (from a source); defaults to the default pipeline.
 */
export function importProfile(name: string | undefined, stageMaps?: StageMappingByPipeline): ImportProfile {
  const n = name ?? 'pilotlab';
  switch (n) {
    case 'pilotlab':
      return pilotlab;
    case 'salesforce':
      return salesforce;
    case 'hubspot':
      return hubspotProfile(stageMaps);
    case 'snapshot':
      return snapshot;
    default:
      throw new AppException('UNKNOWN_IMPORT_PROFILE', `Unknown import profile '${n}'; expected one of ${PROFILE_NAMES.join(', ')}`, {
        profile: n,
        profiles: [...PROFILE_NAMES],
      });
  }
}

/** A compiled mapping: turns one record in source column names into a {@link ProfiledRow}. */
export interface CompiledProfileMapping {
  /** Profile field → source column used. */
  mapping: Record<string, string>;
  ignored_columns: string[];
  read(record: Record<string, Cell>): ProfiledRow;
}

/**
 * Resolves which source column (CSV header or JSON key) feeds which profile field, the same way
 * for CSV and JSON. `pilotlab` uses PilotLab's aliases (ingestion/column-mapping.ts, unchanged);
 * other profiles their own column names (case-insensitive), an explicit mapping winning.
 * @throws VALIDATION_FAILED when a required field has no column or an explicit column is absent
 */
export function compileProfileMapping(profile: ImportProfile, headers: string[], explicit: Record<string, string> | null): CompiledProfileMapping {
  if (profile.name === 'pilotlab') {
    const r = resolveColumnMapping(headers, explicit);
    return {
      mapping: r.mapping as Record<string, string>,
      ignored_columns: r.ignored_columns,
      read: (record) => profile.toRow(mapRecord(record as Record<string, string>, r.mapping)),
    };
  }
  const details: { path: string; errors: string[] }[] = [];
  const mapping: Record<string, string> = {};
  for (const [field, header] of Object.entries(explicit ?? {})) {
    if (!(field in profile.columns)) details.push({ path: `mapping.${field}`, errors: [`unknown field of profile ${profile.name}; expected one of ${Object.keys(profile.columns).join(', ')}`] });
    else if (typeof header !== 'string' || !headers.includes(header)) details.push({ path: `mapping.${field}`, errors: [`column '${String(header)}' is not in the upload`] });
    else mapping[field] = header;
  }
  const lower = headers.map((h) => h.toLowerCase());
  for (const [field, aliases] of Object.entries(profile.columns)) {
    if (mapping[field]) continue;
    const taken = new Set(Object.values(mapping));
    const idx = aliases.map((a) => lower.indexOf(a.toLowerCase())).find((i) => i >= 0 && !taken.has(headers[i]));
    if (idx !== undefined) mapping[field] = headers[idx];
  }
  for (const f of profile.required) {
    if (!mapping[f]) details.push({ path: `mapping.${f}`, errors: [`no column for ${f} (profile ${profile.name} reads it from ${profile.columns[f].join(' or ')})`] });
  }
  if (details.length) throw new AppException('VALIDATION_FAILED', `The columns cannot be mapped with profile ${profile.name}`, details);
  const used = new Set(Object.values(mapping));
  const entries = Object.entries(mapping);
  return {
    mapping,
    ignored_columns: headers.filter((h) => !used.has(h)),
    read(record) {
      const fields: Record<string, Cell> = {};
      for (const [field, col] of entries) fields[field] = record[col];
      return profile.toRow(fields);
    },
  };
}
