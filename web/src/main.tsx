import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { ApiClient } from './api-client.js'
import { App } from './app.js'
import { ApiContext } from './use-load.js'
import './styles.css'

const root = document.getElementById('root')
if (root)
  createRoot(root).render(
    <StrictMode>
      <ApiContext value={new ApiClient()}>
        <App />
      </ApiContext>
    </StrictMode>,
  )
