"""HTTP plumbing shared by the API and the pages: access control, dependencies, caching, errors."""
