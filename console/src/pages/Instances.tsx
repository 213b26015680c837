import type { PageProps } from '../App.tsx';
import { href, navigate } from '../router.ts';
import { INSTANCE_STATES, type Instance } from '../types.ts';
import { DataTable, ErrorMessage, Field, Loading, Pager, StateBadge, time, useLoad, usePager, type PageOf } from '../ui.tsx';

/** Instances, newest first: filtered by state, product and test flag (kept in the URL, so filters are links), paged. */

const PAGE_SIZE = 25;

export function Instances({ api, route }: PageProps) {
  const filters = { state: route.query.state ?? '', productId: route.query.productId ?? '', test: route.query.test ?? '' };
  const filterKey = JSON.stringify(filters);
  const pager = usePager(filterKey);
  const list = useLoad(
    () => api.get<PageOf<Instance>>('/seller/instances', { ...filters, limit: PAGE_SIZE, cursor: pager.cursor }),
    [api, filterKey, pager.cursor],
  );
  const apply = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const value = (name: string) => String(form.get(name) ?? '').trim() || undefined;
    navigate(['instances'], { state: value('state'), productId: value('productId'), test: value('test') });
  };
  return (
    <>
      <h1>Instances</h1>
      <form class="filters" onSubmit={apply} aria-label="Filter instances">
        <Field label="State">
          <select name="state" value={filters.state}>
            <option value="">Any state</option>
            {INSTANCE_STATES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Product id">
          <input name="productId" value={filters.productId} maxLength={64} />
        </Field>
        <Field label="Traffic">
          <select name="test" value={filters.test}>
            <option value="">Real and test</option>
            <option value="false">Real only</option>
            <option value="true">Test only</option>
          </select>
        </Field>
        <button type="submit">Apply filters</button>
      </form>
      <Loading loading={list.loading} />
      <ErrorMessage error={list.error} />
      <DataTable
        caption="Instances, newest first"
        rows={list.data?.items}
        rowKey={(i) => i.instanceId}
        empty="No instance matches these filters."
        columns={[
          { title: 'Instance', cell: (i) => <a href={href(['instances', i.instanceId])}>{i.instanceId}</a> },
          { title: 'State', cell: (i) => <StateBadge state={i.state} /> },
          { title: 'Product', cell: (i) => i.productId ?? '' },
          { title: 'Order', cell: (i) => i.orderId },
          { title: 'Created', cell: (i) => time(i.createdAt) },
          { title: 'Test', cell: (i) => (i.test ? 'test' : '') },
        ]}
      />
      <Pager pager={pager} nextCursor={list.data?.nextCursor} label="Instances" />
    </>
  );
}
