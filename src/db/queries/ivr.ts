// Voice menus (ivr_menus) and what a funnel needs: the calls linked to a menu (messages.menu_id) and their IVR
// events (ivr_events with the same account and SMSC id, and the same phone when the event names one).
import { arrayParam, jsonColumn, type Sql } from "../client.js";

export type IvrMenuRow = { id: string; name: string | null; text: string; tree: unknown; createdAt: Date };

const toDate = (v: unknown): Date => (v instanceof Date ? v : new Date(v as string));

export async function insertIvrMenu(db: Sql, menu: IvrMenuRow): Promise<void> {
  await db.query(`INSERT INTO ivr_menus (id, name, text, tree, created_at) VALUES ($1, $2, $3, $4::text::jsonb, $5)`, [
    menu.id,
    menu.name,
    menu.text,
    JSON.stringify(menu.tree),
    menu.createdAt,
  ]);
}

export async function findIvrMenu(db: Sql, id: string): Promise<IvrMenuRow | null> {
  const rows = await db.query<Record<string, unknown>>(`SELECT id, name, text, tree::text AS tree, created_at FROM ivr_menus WHERE id = $1`, [id]);
  const r = rows[0];
  if (!r) return null;
  return { id: r.id as string, name: (r.name as string | null) ?? null, text: r.text as string, tree: jsonColumn(r.tree), createdAt: toDate(r.created_at) };
}

/** Which of these menu ids are stored. */
export async function findIvrMenuIds(db: Sql, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.query<{ id: string }>("SELECT id FROM ivr_menus WHERE id = ANY($1::text[])", [arrayParam(ids)]);
  return new Set(rows.map((r) => r.id));
}

export type MenuCallEvents = {
  /** messages.id of the call. */
  callId: number;
  /** Oldest first; empty when the call has no IVR events. */
  events: { menuPath: string | null; seconds: number | null; eventAt: Date }[];
};

/**
 * The calls linked to a menu and placed in [from, to), each with its IVR events, oldest first (ties by arrival).
 * One statement: a call without events comes back as one row with no event.
 */
export async function menuCallEvents(db: Sql, f: { menuId: string; from: Date; to: Date }): Promise<MenuCallEvents[]> {
  const rows = await db.query<Record<string, unknown>>(
    `WITH calls AS (
       SELECT id, account, smsc_id, phone FROM messages
       WHERE menu_id = $1 AND placed_at >= $2 AND placed_at < $3
     )
     SELECT c.id::text AS call_id, e.id::text AS event_id, e.menu_path, e.seconds, e.event_at
     FROM calls c
     LEFT JOIN ivr_events e
       ON e.account = c.account AND e.smsc_id = c.smsc_id AND (e.phone IS NULL OR e.phone = c.phone)
     ORDER BY c.id, e.event_at, e.id`,
    [f.menuId, f.from, f.to],
  );
  const calls: MenuCallEvents[] = [];
  let current: MenuCallEvents | null = null;
  for (const r of rows) {
    const callId = Number(r.call_id);
    if (current === null || current.callId !== callId) {
      current = { callId, events: [] };
      calls.push(current);
    }
    if (r.event_id !== null && r.event_id !== undefined) {
      current.events.push({
        menuPath: (r.menu_path as string | null) ?? null,
        seconds: r.seconds === null || r.seconds === undefined ? null : Number(r.seconds),
        eventAt: toDate(r.event_at),
      });
    }
  }
  return calls;
}
