SELECT 'demo placeholder';
