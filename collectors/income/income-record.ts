// Decodes `GET /fapi/v1/income` rows into exact, validated income records.
import { Decimal } from '../../ts/exact/decimal.js';

/** One income row: realized PnL, commission, funding, transfers, ... */
export interface IncomeRecord {
  /** Empty for account-wide rows such as transfers. */
  readonly symbol: string;
  readonly incomeType: string;
  readonly income: Decimal;
  readonly asset: string;
  readonly info: string;
  /** Exchange time, Unix ms. */
  readonly time: number;
  /** Unique per account and income type: the natural key for idempotent storage. */
  readonly tranId: string;
  readonly tradeId: string;
}

/** The body is not a list of income rows; names the row and field at fault. */
export class IncomeDecodeError extends Error {
  override readonly name = 'IncomeDecodeError';
}

function field(row: Record<string, unknown>, name: string, index: number): unknown {
  if (!(name in row)) throw new IncomeDecodeError(`income row ${index}: missing "${name}"`);
  return row[name];
}

function text(row: Record<string, unknown>, name: string, index: number): string {
  const value = field(row, name, index);
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  throw new IncomeDecodeError(`income row ${index}: "${name}" must be a string or integer`);
}

/** Decodes the raw body of `GET /fapi/v1/income`. */
export function decodeIncome(body: Uint8Array): IncomeRecord[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch (error) {
    throw new IncomeDecodeError(
      `income body is not JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (!Array.isArray(parsed)) throw new IncomeDecodeError('income body must be an array');
  return parsed.map((item: unknown, index) => {
    if (typeof item !== 'object' || item === null)
      throw new IncomeDecodeError(`income row ${index}: not an object`);
    const row = item as Record<string, unknown>;
    const incomeText = text(row, 'income', index);
    const income = Decimal.tryParse(incomeText);
    if (income === undefined) throw new IncomeDecodeError(`income row ${index}: "income" is not a decimal`);
    const time = Number(text(row, 'time', index));
    if (!Number.isSafeInteger(time)) throw new IncomeDecodeError(`income row ${index}: "time" is not a time`);
    return {
      symbol: typeof row.symbol === 'string' ? row.symbol : '',
      incomeType: text(row, 'incomeType', index),
      income,
      asset: text(row, 'asset', index),
      info: typeof row.info === 'string' ? row.info : '',
      time,
      tranId: text(row, 'tranId', index),
      tradeId: typeof row.tradeId === 'string' || typeof row.tradeId === 'number' ? String(row.tradeId) : '',
    };
  });
}
