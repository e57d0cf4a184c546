import type { Environment } from '../api-types.js'
import { ServiceList } from './service-list.js'

/** A project's environments as its members see them: type, status, databases and modes, mounts. */
export function EnvironmentsSection({ environments }: { environments: readonly Environment[] }) {
  return (
    <section className="card" aria-labelledby="environments-title">
      <h2 id="environments-title">Environments</h2>
      {environments.length === 0 ? (
        <p className="empty">No environments yet.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Environment</th>
                <th scope="col">Type</th>
                <th scope="col">Status</th>
                <th scope="col">Databases and modes</th>
                <th scope="col">Mounts</th>
              </tr>
            </thead>
            <tbody>
              {environments.map((e) => (
                <tr key={e.name}>
                  <td data-label="Environment">{e.name}</td>
                  <td data-label="Type">{e.type}</td>
                  <td data-label="Status">{e.status}</td>
                  <td data-label="Databases">
                    <ServiceList services={e.services} />
                  </td>
                  <td data-label="Mounts">{e.mounts.map((m) => m.name).join(', ') || '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  )
}
