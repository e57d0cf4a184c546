import { p } from '../api-client.js'
import type { User } from '../api-types.js'
import { formatTime } from '../format.js'
import { useApi, useLoad } from '../use-load.js'
import { ActionButton, ActionForm, text } from './action-form.js'

/** Operators: the users of this Coffer, who is an operator; create and remove users. */
export function UsersView({ me }: { me: User }) {
  const api = useApi()
  const [users, reload] = useLoad(() => api.all<User>('/api/users?limit=200'), 'users')
  return (
    <div className="view">
      <div className="view-head">
        <h1>Users</h1>
        <p className="lede">
          Operators administer the whole platform and restore automatic backups. Roles on projects
          (admin, contributor, viewer) are given in each project’s settings.
        </p>
      </div>
      {users.state === 'loading' && (
        <p className="loading" role="status">
          Loading the users…
        </p>
      )}
      {users.state === 'error' && (
        <p className="error" role="alert">
          {users.message}
        </p>
      )}
      {users.state === 'ready' && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">Operator</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {users.data.map((u) => (
                <tr key={u.id}>
                  <td data-label="User">{u.name}</td>
                  <td data-label="Operator">{u.operator ? 'yes' : 'no'}</td>
                  <td data-label="Created">{formatTime(u.created_at)}</td>
                  <td>
                    {u.name !== me.name && (
                      <>
                        <ActionButton
                          label={u.operator ? 'Remove operator' : 'Make operator'}
                          action={() =>
                            api.request('PATCH', p`/api/users/${u.name}`, { operator: !u.operator })
                          }
                          onDone={reload}
                        />
                        <ActionButton
                          label="Delete"
                          danger
                          action={() => api.request('DELETE', p`/api/users/${u.name}`)}
                          onDone={reload}
                        />
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ActionForm
        label="New user"
        submit="Create user"
        onDone={reload}
        action={(d) =>
          api.post('/api/users', {
            name: text(d, 'name'),
            password: text(d, 'password'),
            operator: d.get('operator') === 'on',
          })
        }
      >
        <label>
          User name
          <input name="name" required autoComplete="off" />
        </label>
        <label>
          Password
          <input name="password" type="password" required autoComplete="new-password" />
        </label>
        <label className="inline">
          <input name="operator" type="checkbox" /> Operator
        </label>
      </ActionForm>
    </div>
  )
}
