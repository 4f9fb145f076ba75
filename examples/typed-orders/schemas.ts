/**
 * The data of the orders example, as zod schemas: the server checks frames with them and
 * types its handlers from them; the client gets the same types through `typeof app`.
 */
import { z } from 'zod'

export const NewOrder = z.object({
  sku: z.string().min(1).max(32),
  qty: z.number().int().positive().max(100),
  note: z.string().max(200).optional(),
})

export const Order = NewOrder.extend({ id: z.string(), tenant: z.string(), placed_at: z.number() })

export const ListQuery = z.object({ limit: z.number().int().min(1).max(100).default(20) }).default({ limit: 20 })

export const OrderList = z.object({ orders: z.array(Order) })

export type Order = z.infer<typeof Order>
