// Voice menus (SMSC's `{menu: ...}` macro) and their funnels:
//   POST /v1/ivr/menus/validate   (read)   check a voice message's text: the menu tree, or 422 with every problem
//   POST /v1/ivr/menus            (write)  store a valid menu; 201 with Location
//   GET  /v1/ivr/menus/{id}       (read)   a stored menu
//   GET  /v1/ivr/menus/{id}/funnel (read)  how the calls linked to the menu (POST /v1/messages `menu_id`) moved through it
// The text comes as text/plain (any charset TextDecoder knows; UTF-8 by default) or as JSON `{"text": ...}`.
import { randomBytes } from "node:crypto";
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppDeps, AppEnv } from "../app.js";
import {
  computeFunnel,
  MENU_ERROR_CODES,
  parseVoiceMenu,
  SPECIAL_KEYS,
  type MenuAction,
  type MenuError,
  type VoiceMenu,
} from "../domain/ivr-menu.js";
import { findIvrMenu, insertIvrMenu, menuCallEvents } from "../db/queries/ivr.js";
import { fieldErrors, PROBLEM_TYPE_BASE, ProblemError, type FieldError } from "../http/problem.js";
import { requireScope } from "./auth.js";
import { commonProblems, iso, problem, ProblemSchema, RangeQuerySchema, resolveRange, safeText } from "./schemas.js";

/** Far above SMSC's 1000 characters, so that an over-long message still gets its list of problems. */
export const MAX_MENU_TEXT = 20_000;
/** A 422 lists at most this many problems (its `detail` gives the total). */
export const MAX_MENU_ERRORS_LISTED = 1000;

// ---- schemas ------------------------------------------------------------------------------------------------------

const simple = (type: "end" | "back" | "start" | "repeat", description: string) =>
  z.object({ type: z.literal(type) }).openapi({ description });

const ActionSchema = z
  .discriminatedUnion("type", [
    z.object({ type: z.literal("say"), text: z.string() }).openapi({ description: "Text the subscriber hears" }),
    z
      .object({ type: z.literal("url"), address: z.string().nullable().openapi({ description: "Null for a bare `url` (the account's handler)" }) })
      .openapi({ description: "SMSC sends the current item and the time in the menu to the handler" }),
    z
      .object({
        type: z.literal("call"),
        phones: z.array(z.string()).openapi({ description: "1-9 numbers, as written" }),
        wait: z.number().int().nullable().openapi({ description: "Seconds to wait for an answer, 0-120; null: not given (SMSC waits 120)" }),
        ok: z.string().nullable().openapi({ description: "After a successful call: `end`, or a label or item" }),
        err: z.string().nullable().openapi({ description: "When the call fails: a label, an item path, or `end`" }),
        record: z.boolean().openapi({ description: "Record the conversation" }),
      })
      .openapi({ description: "Transfer the call" }),
    z
      .object({
        type: z.literal("sms"),
        phone: z.string().openapi({ description: "A number, or `$phone` (the subscriber)" }),
        sender: z.string(),
        text: z.string().openapi({ description: "As written; `$phone` is kept" }),
      })
      .openapi({ description: "Send an SMS" }),
    z
      .object({ type: z.literal("record"), seconds: z.number().int().nullable().openapi({ description: "Null for a bare `record` (SMSC records up to 30 s)" }) })
      .openapi({ description: "Record the subscriber's answer" }),
    simple("end", "Leave the menu (the end text follows)"),
    simple("back", "Back to the previous menu"),
    simple("start", "Back to the top of the menu, replaying the menu text"),
    simple("repeat", "Repeat the current item"),
  ])
  .openapi("IvrAction");

type MenuItemJson = { key: string; path: string; actions: MenuAction[]; items: MenuItemJson[] };

const MenuItemSchema: z.ZodType<MenuItemJson> = z
  .object({
    key: z.string().openapi({ description: "The key pressed, 1-9" }),
    path: z.string().openapi({ description: "The keys from the top of the menu (`12`: sub-item 2 of item 1)" }),
    actions: z.array(ActionSchema).openapi({ description: "What the key does, in order (a key repeated on consecutive lines)" }),
    get items(): z.ZodArray<z.ZodType<MenuItemJson>> {
      return z.array(MenuItemSchema).openapi({ description: "Sub-items, in key order" });
    },
  })
  .openapi("IvrMenuItem");

const VoiceMenuSchema = z
  .object({
    start_text: z.string().openapi({ description: "Heard before the menu" }),
    menu_text: z.string().openapi({ description: "The menu's own text, heard on entering it and on `#`" }),
    end_text: z.string().openapi({ description: "Heard after the menu ends" }),
    items: z.array(MenuItemSchema).openapi({ description: "Items 1-9 in key order" }),
    special_keys: z
      .array(z.object({ key: z.enum(SPECIAL_KEYS), actions: z.array(ActionSchema) }))
      .openapi({ description: "The special keys the menu declares (`*: back`, `#: start`, `0: repeat`), in that order" }),
    labels: z.array(z.object({ name: z.string(), actions: z.array(ActionSchema) })).openapi({ description: "Named steps `err:` jumps to" }),
  })
  .openapi("IvrMenu");

const MenuErrorSchema = z
  .object({
    field: z.literal("text"),
    code: z.enum(MENU_ERROR_CODES),
    line: z.number().int().openapi({ description: "1-based line in the submitted text" }),
    column: z.number().int().openapi({ description: "1-based column, in characters" }),
    message: z.string(),
  })
  .openapi("IvrMenuError");

const MenuProblemSchema = ProblemSchema.extend({
  errors: z.array(MenuErrorSchema).openapi({ description: `Every problem, by position (at most ${MAX_MENU_ERRORS_LISTED})` }),
}).openapi("IvrMenuProblem");

const TextSchema = z
  .string()
  .min(1)
  .max(MAX_MENU_TEXT)
  .regex(/^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$/, "must not contain control characters other than tab and line breaks")
  .openapi({ description: "The whole voice message: start text, `{menu: ...}`, end text" });

const MenuInputSchema = z
  .object({
    text: TextSchema,
    name: safeText(200).min(1).optional().openapi({ description: "A name for the menu (POST /v1/ivr/menus only)" }),
  })
  .openapi("IvrMenuInput");

const menuBody = {
  required: true,
  content: {
    "text/plain": {
      schema: z.string().openapi({ example: "Здравствуйте!\n{menu: Нажмите 1 для связи с оператором\n1: call:79991234567 wait=30 err:fail\nfail: Оператор занят}\nДо свидания!" }),
    },
    // A reference, not the zod schema: the route reads the body itself (text/plain or JSON), so no validator is attached.
    "application/json": { schema: { $ref: "#/components/schemas/IvrMenuInput" } },
  },
} as const;

const ValidationSchema = z.object({ ok: z.literal(true), menu: VoiceMenuSchema }).openapi("IvrMenuValidation");

const StoredMenuSchema = z
  .object({
    id: z.string().openapi({ example: "menu_3f9a0c12be47" }),
    name: z.string().nullable(),
    text: z.string(),
    created_at: z.string(),
    menu: VoiceMenuSchema,
  })
  .openapi("IvrStoredMenu");

const CreatedMenuSchema = StoredMenuSchema.omit({ text: true }).openapi("IvrCreatedMenu");

const FunnelNodeSchema = z
  .object({
    path: z.string().openapi({ description: "`\"\"` for the menu itself (the root), else the item path" }),
    reached: z.number().int().openapi({ description: "Calls whose events reached this node or one below it" }),
    share_of_parent: z.number().nullable().openapi({ description: "reached / the parent's reached (4 decimals); null for the root or when the parent has 0" }),
    next_keys: z.record(z.string(), z.number().int()).openapi({ description: "For each child key: the calls that went on to it" }),
    ended_here: z.number().int().openapi({ description: "Calls whose last event was at this node" }),
    time_in_menu_s: z
      .object({ median: z.number().nullable(), p90: z.number().nullable() })
      .openapi({
        description:
          "Over the calls that ended here: per call the largest `seconds` its events carry, else last event time − first; " +
          "linear interpolation between closest ranks; null when no call ended here",
      }),
  })
  .openapi("IvrFunnelNode");

const FunnelSchema = z
  .object({
    menu_id: z.string(),
    from: z.string(),
    to: z.string(),
    calls: z.number().int().openapi({ description: "Messages linked to the menu (menu_id) placed in the range" }),
    calls_with_events: z.number().int().openapi({ description: "Of those, calls with at least one IVR event" }),
    unmatched_calls: z.number().int().openapi({ description: "Calls with an event whose path is not a node of the menu: counted here and in no node" }),
    nodes: z.array(FunnelNodeSchema).openapi({ description: "The root, then every item and sub-item, depth first in key order" }),
  })
  .openapi("IvrFunnel");

const IdParamSchema = z.object({ id: safeText(64).min(1).openapi({ example: "menu_3f9a0c12be47" }) });

// ---- mapping ------------------------------------------------------------------------------------------------------

function menuToJson(menu: VoiceMenu): z.infer<typeof VoiceMenuSchema> {
  return {
    start_text: menu.startText,
    menu_text: menu.menuText,
    end_text: menu.endText,
    items: menu.items,
    special_keys: menu.specialKeys,
    labels: menu.labels,
  };
}

type MenuProblemItem = FieldError & { code: MenuError["code"]; line: number; column: number };

function invalidMenu(errors: readonly MenuError[]): ProblemError {
  const listed: MenuProblemItem[] = errors.slice(0, MAX_MENU_ERRORS_LISTED).map((e) => ({ field: "text", ...e }));
  const first = errors[0]!;
  const count = errors.length === 1 ? "1 problem" : `${errors.length} problems${errors.length > listed.length ? ` (the first ${listed.length} listed)` : ""}`;
  return new ProblemError(422, "Invalid voice menu", `${count}; the first, at line ${first.line}, column ${first.column}: ${first.message}`, {
    type: `${PROBLEM_TYPE_BASE}invalid-voice-menu`,
    errors: listed,
  });
}

/** Reads the menu text (and name) from a text/plain or JSON body; 415 for any other media type. */
async function readMenuInput(c: Context, queryName: string | undefined): Promise<{ text: string; name: string | null }> {
  const header = c.req.header("content-type") ?? "";
  const type = header.split(";")[0]!.trim().toLowerCase();
  let input: unknown;
  if (type === "text/plain") {
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(header)?.[1] ?? "utf-8";
    const decoder = newDecoder(charset);
    if (!decoder) throw new ProblemError(415, "Unsupported media type", `unknown charset "${charset}": send UTF-8 (or a charset the server knows)`);
    try {
      input = { text: decoder.decode(await c.req.arrayBuffer()) };
    } catch {
      throw ProblemError.validation([{ field: "text", message: `the body is not valid ${charset}` }]);
    }
  } else if (/^application\/([a-z0-9.+-]+\+)?json$/.test(type)) {
    try {
      input = JSON.parse(await c.req.text());
    } catch {
      throw ProblemError.validation([{ field: "(body)", message: "not valid JSON" }]);
    }
  } else {
    throw new ProblemError(415, "Unsupported media type", 'send the voice message as text/plain, or as JSON {"text": "..."}');
  }
  const parsed = MenuInputSchema.safeParse(input);
  if (!parsed.success) throw ProblemError.validation(fieldErrors(parsed.error.issues));
  return { text: parsed.data.text, name: parsed.data.name ?? queryName ?? null };
}

function newDecoder(charset: string) {
  try {
    return new TextDecoder(charset, { fatal: true });
  } catch {
    return null;
  }
}

const newMenuId = () => `menu_${randomBytes(6).toString("hex")}`;

// ---- routes -------------------------------------------------------------------------------------------------------

export function mountIvrRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  app.openAPIRegistry.register("IvrMenuInput", MenuInputSchema);
  const invalid = problem(
    "The menu is not valid: `errors` lists every problem with its code, line and column " +
      `(${MENU_ERROR_CODES.map((c) => `\`${c}\``).join(", ")})`,
  );
  const invalidResponse = { ...invalid, content: { "application/problem+json": { schema: MenuProblemSchema } } };

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/ivr/menus/validate",
      tags: ["ivr"],
      summary: "Check a voice message's `{menu: ...}` macro: the menu as a tree, or every problem with its line and column",
      security: [{ bearer: [] }],
      middleware: [requireScope("read")] as const,
      request: { body: menuBody },
      responses: {
        200: { description: "The menu is valid", content: { "application/json": { schema: ValidationSchema } } },
        ...commonProblems,
        413: problem("A body over API_BODY_LIMIT"),
        415: problem("The body is neither text/plain nor JSON"),
        422: invalidResponse,
      },
    }),
    async (c) => {
      const { text } = await readMenuInput(c, undefined);
      const result = parseVoiceMenu(text);
      if (!result.ok) throw invalidMenu(result.errors);
      return c.json({ ok: true as const, menu: menuToJson(result.menu) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/ivr/menus",
      tags: ["ivr"],
      summary: "Store a valid voice menu; link voice messages to it with `menu_id` in POST /v1/messages",
      description: "The name comes from the JSON body's `name`, else from the `name` query parameter (for text/plain).",
      security: [{ bearer: [] }],
      middleware: [requireScope("write")] as const,
      request: { query: z.object({ name: safeText(200).min(1).optional() }), body: menuBody },
      responses: {
        201: {
          description: "Stored; `Location` is its address",
          headers: { Location: { description: "/v1/ivr/menus/{id}", schema: { type: "string" } } },
          content: { "application/json": { schema: CreatedMenuSchema } },
        },
        ...commonProblems,
        413: problem("A body over API_BODY_LIMIT"),
        415: problem("The body is neither text/plain nor JSON"),
        422: invalidResponse,
      },
    }),
    async (c) => {
      const { text, name } = await readMenuInput(c, c.req.valid("query").name);
      const result = parseVoiceMenu(text);
      if (!result.ok) throw invalidMenu(result.errors);
      const row = { id: newMenuId(), name, text, tree: result.menu, createdAt: deps.clock() };
      await insertIvrMenu(deps.db, row);
      return c.json({ id: row.id, name, created_at: iso(row.createdAt)!, menu: menuToJson(result.menu) }, 201, { Location: `/v1/ivr/menus/${row.id}` });
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/ivr/menus/{id}",
      tags: ["ivr"],
      summary: "A stored voice menu: its text and its tree",
      security: [{ bearer: [] }],
      middleware: [requireScope("read")] as const,
      request: { params: IdParamSchema },
      responses: {
        200: { description: "The menu", content: { "application/json": { schema: StoredMenuSchema } } },
        ...commonProblems,
        404: problem("No menu with this id"),
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const menu = await findIvrMenu(deps.db, id);
      if (!menu) throw new ProblemError(404, "Not found", `no voice menu with id ${id}`);
      return c.json({ id: menu.id, name: menu.name, text: menu.text, created_at: iso(menu.createdAt)!, menu: menuToJson(menu.tree as VoiceMenu) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/ivr/menus/{id}/funnel",
      tags: ["ivr"],
      summary: "How calls moved through a menu: per node, calls that reached it, share of the parent, next keys, calls that ended there, time in the menu",
      description:
        "The calls are the messages registered with this `menu_id` (POST /v1/messages) and placed (sent) in [from, to), default the " +
        "last 7 days. A call's IVR events are those with its account and SMSC id (and its phone, when the event names one), oldest " +
        "first. An event's menu path may be written `12`, `1-2`, `1.2`, `1,2` or as the keys pressed (`*` back, `#` top, `0` repeat); " +
        "an event without one is at the top of the menu. A call with an event that does not fit the menu counts in `unmatched_calls`, " +
        "and in no node.",
      security: [{ bearer: [] }],
      middleware: [requireScope("read")] as const,
      request: { params: IdParamSchema, query: RangeQuerySchema },
      responses: {
        200: { description: "The funnel", content: { "application/json": { schema: FunnelSchema } } },
        ...commonProblems,
        404: problem("No menu with this id"),
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const range = resolveRange(c.req.valid("query"), deps.clock());
      const menu = await findIvrMenu(deps.db, id);
      if (!menu) throw new ProblemError(404, "Not found", `no voice menu with id ${id}`);
      const funnel = computeFunnel(menu.tree as VoiceMenu, await menuCallEvents(deps.db, { menuId: id, ...range }));
      return c.json(
        {
          menu_id: id,
          from: iso(range.from)!,
          to: iso(range.to)!,
          calls: funnel.calls,
          calls_with_events: funnel.callsWithEvents,
          unmatched_calls: funnel.unmatchedCalls,
          nodes: funnel.nodes.map((n) => ({
            path: n.path,
            reached: n.reached,
            share_of_parent: n.shareOfParent,
            next_keys: n.nextKeys,
            ended_here: n.endedHere,
            time_in_menu_s: n.timeInMenuS,
          })),
        },
        200,
      );
    },
  );
}
