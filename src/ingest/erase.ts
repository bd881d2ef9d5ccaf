// Erasing one number (DELETE /v1/numbers/{phone}): everything stored about it, callbacks included, in one
// transaction. An opted-out number keeps only a suppression entry (a hash), so lookups still answer opted_out.
import { isRetryableTxError, type Database } from "../db/client.js";
import { eraseNumber, insertSuppression, phoneHash } from "../db/queries/erasure.js";

export type ErasureResult = { erased: Record<string, number>; suppressed: boolean };

export async function eraseNumberEverywhere(db: Database, phone: string, now: Date): Promise<ErasureResult> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await db.transaction(async (tx) => {
        const { counts, optedOut } = await eraseNumber(tx, phone);
        if (optedOut) await insertSuppression(tx, phoneHash(phone), now);
        return { erased: counts, suppressed: optedOut };
      });
    } catch (err) {
      if (isRetryableTxError(err) && attempt < 3) continue;
      throw err;
    }
  }
}
