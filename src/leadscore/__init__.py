"""leadscore: lead scoring for HubSpot portals, configured as code."""

__version__ = "0.1.0"
